"""Ways a worker's copy (`changes.py`) could claim to be current while it misses a change:
a stream that has fallen behind, a document deleted or rewritten by hand."""

from bson import ObjectId

from support import caught_up, feed_current, reserve


def test_an_event_deleted_by_hand_leaves_the_list_within_a_second(make_app, events, database):
    """The service never deletes an event, an operator may: the cached list is built
    again as it is after any other change, not only when it ages out (`MAX_AGE`, 5 s)."""
    worker = make_app()
    feed_current(worker)
    events.create(name="Kept")
    gone = events.create(name="Gone")
    caught_up()
    client = worker.test_client()
    assert len(client.get("/events").json) == 2

    database.events.delete_one({"_id": ObjectId(gone["_id"])})
    caught_up()

    assert [event["name"] for event in client.get("/events").json] == ["Kept"]


def test_an_event_restored_by_hand_is_what_the_copy_holds(make_app, auth, events, database):
    """An operator writes a sold-out event back whole, as an older version of it was
    (a restore: a lower `__v`), with more seats: the copy takes the stream's document,
    rather than keeping the one with the higher `__v` until the worker restarts, and
    sells the new seats."""
    worker = make_app()
    feed_current(worker)
    event = events.create(capacity=1)
    backup = database.events.find_one({"_id": ObjectId(event["_id"])})
    client = worker.test_client()
    assert reserve(client, auth.user_headers(), event).status_code == 201

    database.events.replace_one({"_id": backup["_id"]}, {**backup, "capacity": 2, "seatsTaken": 1})
    caught_up()

    assert reserve(client, auth.user_headers(), event).status_code == 201
