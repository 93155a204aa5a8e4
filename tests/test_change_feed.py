"""Each worker's copies of revocations, events and roles (`changes.py`): answers from
memory while the change stream is current, the database read at once when it is not, and
a change made on one worker seen by every other within a second."""

import time

from bson import ObjectId

from support import PASSWORD, CommandLog, bearer, caught_up, feed_current, reserve, security_claims_of, wait_for
from ticket_api import changes
from ticket_api.auth import store as auth_store

FEED_APP = changes.APP_NAME


def test_a_token_revoked_on_one_worker_is_refused_by_another_within_a_second(make_app, auth):
    """Two workers on one database, both copies current: a logout on the first, and the
    second refuses the token within `FRESH_FOR` (a second), never reading the database."""
    first, second = make_app(), make_app()
    feed_current(first), feed_current(second)
    headers = auth.user_headers()
    other = second.test_client()
    assert other.get("/auth/tickets", headers=headers).status_code == 200

    assert first.test_client().post("/auth/logout", headers=headers).status_code == 200
    logged_out = time.monotonic()
    assert wait_for(lambda: other.get("/auth/tickets", headers=headers).status_code == 401, 1, every=0.01)

    assert time.monotonic() - logged_out < 1


def test_a_worker_whose_stream_stalls_reads_revocations_at_once(make_app, auth, fail_point):
    """The second worker's stream stops answering (its `getMore` hangs): once its copy is
    older than `FRESH_FOR`, each request reads the revocations, so a logout on the first
    worker is refused there at once."""
    first, second = make_app(), make_app()
    feed = feed_current(second)
    headers = auth.user_headers()
    other = second.test_client()
    fail_point("getMore", times=None, appName=FEED_APP, blockConnection=True, blockTimeMS=3000)
    assert wait_for(lambda: not feed.fresh(), 2, every=0.01)

    assert first.test_client().post("/auth/logout", headers=headers).status_code == 200

    assert other.get("/auth/tickets", headers=headers).status_code == 401


def test_a_password_change_on_one_worker_refuses_older_tokens_on_another_within_a_second(make_app, auth):
    first, second = make_app(), make_app()
    feed_current(first), feed_current(second)
    user = auth.signup()
    headers = bearer(auth.login(user["email"]))
    other = second.test_client()
    assert other.get("/auth/tickets", headers=headers).status_code == 200

    changed = first.test_client().post("/auth/password", headers=headers,
                                       json={"currentPassword": PASSWORD, "newPassword": "another good password"})
    assert changed.status_code == 200

    assert wait_for(lambda: other.get("/auth/tickets", headers=headers).status_code == 401, 1, every=0.01)


def test_a_seat_sold_on_another_worker_is_seen_on_this_ones_event_page(make_app, auth, events):
    first, second = make_app(), make_app()
    feed_current(first), feed_current(second)
    event = events.create(capacity=3)
    page = second.test_client()
    assert wait_for(lambda: page.get(f"/events/{event['_id']}").json["ticketsAvailable"] == 3, 1, every=0.01)

    assert reserve(first.test_client(), auth.user_headers(), event).status_code == 201

    assert wait_for(lambda: page.get(f"/events/{event['_id']}").json["ticketsAvailable"] == 2, 1, every=0.01)
    assert wait_for(lambda: page.get("/events").json[0]["ticketsAvailable"] == 2, 1, every=0.01)


def test_a_cached_event_and_list_ask_the_database_nothing_while_the_copy_is_current(counted, events):
    worker, log = counted
    feed_current(worker.application)
    event = events.create()
    caught_up()
    first_list, first_event = worker.get("/events"), worker.get(f"/events/{event['_id']}")
    log.sent.clear()

    again_list, again_event = worker.get("/events"), worker.get(f"/events/{event['_id']}")
    not_modified = worker.get(f"/events/{event['_id']}", headers={"If-None-Match": first_event.headers["ETag"]})
    list_not_modified = worker.get("/events", headers={"If-None-Match": first_list.headers["ETag"]})

    assert log.sent == []
    assert (again_list.json, again_event.json) == (first_list.json, first_event.json)
    assert (not_modified.status_code, list_not_modified.status_code) == (304, 304)


def test_without_a_current_copy_the_event_list_reads_the_events_version(make_app, client, events):
    """No stream (`CHANGE_FEED` false, as on a standalone mongod): a cached list costs one
    read, of the events' version, and an event changed elsewhere is seen at once."""
    log = CommandLog()
    worker = make_app(CHANGE_FEED=False, MONGODB_CLIENT_OPTIONS={"event_listeners": [log]}).test_client()
    event = events.create(capacity=3)
    worker.get("/events")
    log.sent.clear()

    assert worker.get("/events").json[0]["ticketsAvailable"] == 3
    assert log.sent == [("aggregate", "events")]

    assert client.patch(f"/events/{event['_id']}", json={"capacity": 5}, headers=events.admin).status_code == 200
    assert worker.get("/events").json[0]["ticketsAvailable"] == 5


def test_a_copy_that_is_behind_never_sells_a_seat_that_is_gone(make_app, auth, events, database):
    """The copy says a seat is free, the stored event has none: the seat update's filter
    decides, the event is read again, and the buyer is told "sold out"."""
    worker = make_app()
    feed = feed_current(worker)
    event = events.create(capacity=1)
    caught_up()
    event_id = ObjectId(event["_id"])
    behind = feed.mirrors["events"].get(event_id)
    assert reserve(worker.test_client(), auth.user_headers(), event).status_code == 201
    caught_up()
    feed.mirrors["events"].documents[event_id] = behind  # as if the stream had not yet told

    refused = reserve(worker.test_client(), auth.user_headers(), event)

    assert refused.status_code == 409 and refused.json["code"] == "sold_out"
    assert database.events.find_one({"_id": event_id})["seatsTaken"] == 1
    assert database.tickets.count_documents({}) == 1


def test_a_role_changed_elsewhere_applies_to_buying_within_a_second(make_app, auth, events):
    """`flask set-role` runs in another process: the worker's copy of roles learns it."""
    worker = make_app()
    feed_current(worker)
    event = events.create()
    user = auth.signup()
    headers = bearer(auth.login(user["email"]))
    operator = make_app()
    with operator.app_context():
        auth_store.set_role(user["email"], auth_store.DOOR, now=None)

    assert wait_for(lambda: reserve(worker.test_client(), headers, event).status_code == 403, 1, every=0.01)


def test_a_user_deleted_by_hand_buys_nothing(make_app, auth, events, database):
    worker = make_app()
    feed_current(worker)
    event = events.create()
    user = auth.signup()
    headers = bearer(auth.login(user["email"]))
    database.users.delete_one({"_id": ObjectId(user["_id"])})
    caught_up()

    refused = reserve(worker.test_client(), headers, event)

    assert refused.status_code == 404 and refused.json["code"] == "user_not_found"
    assert database.tickets.count_documents({}) == 0


def test_a_server_without_change_streams_leaves_every_read_to_the_database(make_app, auth, events, fail_point):
    """A standalone mongod refuses `$changeStream` (error 40573): the feed gives up, and
    every request reads the database."""
    fail_point("aggregate", times=None, appName=FEED_APP, errorCode=changes.NO_CHANGE_STREAMS)
    worker = make_app()
    feed = worker.extensions["changes"]
    feed.start()
    assert wait_for(lambda: not feed.thread.is_alive(), 2, every=0.01)

    assert not feed.fresh()
    assert reserve(worker.test_client(), auth.user_headers(), events.create()).status_code == 201


def test_a_stream_cut_off_comes_back_and_misses_no_revocation(make_app, auth, fail_point):
    """The server drops the stream's connection: while the copy is not current the
    database is read, and the stream comes back (resumed, or opened and loaded again)
    with every revocation made meanwhile."""
    first, second = make_app(), make_app()
    feed = feed_current(second)
    headers = auth.user_headers()
    other = second.test_client()
    fail_point("getMore", times=3, appName=FEED_APP, close_connection=True)
    assert first.test_client().post("/auth/logout", headers=headers).status_code == 200
    logged_out = time.monotonic()

    assert wait_for(lambda: feed.fresh() and feed.complete_as_of > logged_out, 5, every=0.01)
    assert other.get("/auth/tickets", headers=headers).status_code == 401
    assert feed.mirrors["revoked_tokens"].get(security_claims_of(first, headers)["jti"]) is not None


def test_ids_that_are_no_event_are_never_kept(make_app, events):
    """A bot asking for random ids gets 404s and leaves nothing in the worker's memory."""
    worker = make_app()
    feed_current(worker)
    event = events.create()
    caught_up()
    client = worker.test_client()

    answers = [client.get(f"/events/{ObjectId()}").status_code for _ in range(20)]
    assert client.get(f"/events/{event['_id']}").status_code == 200

    assert answers == [404] * 20
    assert list(worker.extensions["events_kept"]) == [ObjectId(event["_id"])]


def test_a_user_or_event_the_copy_does_not_have_yet_is_read(make_app, auth, events):
    """Made on another worker a moment ago, not yet told by the stream: read, not refused."""
    worker = make_app()
    feed = feed_current(worker)
    event = events.create()
    user = auth.signup()
    headers = bearer(auth.login(user["email"]))
    caught_up()
    feed.mirrors["events"].documents.pop(ObjectId(event["_id"]))
    feed.mirrors["users"].documents.pop(ObjectId(user["_id"]))

    assert reserve(worker.test_client(), headers, event).status_code == 201


def change(kind, key, **fields):
    return {"operationType": kind, "documentKey": {"_id": key}, **fields}


def test_a_copy_applies_changes_in_order_and_never_goes_back():
    copy = changes.Mirror("events")
    copy.apply(change("insert", 1, fullDocument={"_id": 1, "name": "a", "seatsTaken": 0, "__v": 0}), read=None)
    copy.put({"_id": 1, "name": "b", "seatsTaken": 2, "__v": 2})  # this worker's write, before the stream tells

    copy.apply(change("update", 1, updateDescription={"updatedFields": {"seatsTaken": 1, "__v": 1}}), read=None)
    assert copy.get(1) == {"_id": 1, "name": "b", "seatsTaken": 2, "__v": 2}  # older than the copy: skipped

    copy.apply(change("update", 1, updateDescription={"updatedFields": {"seatsTaken": 3, "__v": 3},
                                                      "removedFields": ["name"]}), read=None)
    assert copy.get(1) == {"_id": 1, "seatsTaken": 3, "__v": 3}

    copy.apply(change("update", 1, updateDescription={"updatedFields": {"image.url": "x"}}),
               read=lambda key: {"_id": key, "image": {"url": "x"}, "__v": 4})
    assert copy.get(1) == {"_id": 1, "image": {"url": "x"}, "__v": 4}  # a nested field: read as stored

    copy.apply(change("delete", 1), read=None)
    assert copy.get(1) is None


def test_a_copy_of_some_fields_keeps_only_those():
    roles = changes.Mirror("users", fields=("role",))
    roles.apply(change("insert", 1, fullDocument={"_id": 1, "role": "user", "passwordHash": "secret"}), read=None)
    roles.apply(change("update", 1, updateDescription={"updatedFields": {"passwordHash": "other"}}), read=None)
    roles.apply(change("update", 1, updateDescription={"updatedFields": {"role": "door"}}), read=None)

    assert roles.get(1) == {"_id": 1, "role": "door"}


def deaf(feed, collection):
    """The stream's changes to `collection` are no longer applied: only the worker's own
    writes reach its copy, which stays current (the stream answers as ever)."""
    def ignore(change, read):
        del change, read

    feed.mirrors[collection].apply = ignore


def test_a_worker_sees_its_own_logout_at_once(make_app, auth):
    worker = make_app()
    feed = feed_current(worker)
    headers = auth.user_headers()
    client = worker.test_client()
    assert client.get("/auth/tickets", headers=headers).status_code == 200
    deaf(feed, "revoked_tokens")

    assert client.post("/auth/logout", headers=headers).status_code == 200

    assert client.get("/auth/tickets", headers=headers).status_code == 401


def test_a_worker_shows_its_own_edits_and_sales_at_once(make_app, auth, events):
    worker = make_app()
    feed = feed_current(worker)
    event = events.create(capacity=5)
    caught_up()
    client = worker.test_client()
    assert client.get(f"/events/{event['_id']}").json["ticketsAvailable"] == 5
    assert client.get("/events").json[0]["ticketsAvailable"] == 5
    deaf(feed, "events")

    assert reserve(client, auth.user_headers(), event).status_code == 201
    assert client.get("/events").json[0]["ticketsAvailable"] == 4
    assert client.get(f"/events/{event['_id']}").json["ticketsAvailable"] == 4

    assert client.patch(f"/events/{event['_id']}", json={"name": "Moved"}, headers=events.admin).status_code == 200
    assert client.get(f"/events/{event['_id']}").json["name"] == "Moved"
    assert client.get("/events").json[0]["name"] == "Moved"


def test_a_worker_started_later_loads_what_was_done_before(make_app, auth, events):
    """Its copy is loaded when its stream opens: a token revoked and an event made before
    are known to it without a read."""
    first = make_app()
    headers = auth.user_headers()
    event = events.create()
    assert first.test_client().post("/auth/logout", headers=headers).status_code == 200
    log = CommandLog()
    later = make_app(MONGODB_CLIENT_OPTIONS={"event_listeners": [log]})
    feed_current(later)
    log.sent.clear()

    assert later.test_client().get("/auth/tickets", headers=headers).status_code == 401
    assert later.test_client().get(f"/events/{event['_id']}").status_code == 200
    assert ("find", "revoked_tokens") not in log.sent
    assert ("find", "events") in log.sent  # the event's page is built once, then kept


def test_a_copy_is_not_current_before_every_collection_is_loaded(make_app, auth, database):
    """Loading a collection of many documents takes several batches (`getMore`s of the
    `find`): no copy is used before the last collection is loaded (the first mark is
    sent after the loads)."""
    headers = auth.user_headers()
    assert make_app().test_client().post("/auth/logout", headers=headers).status_code == 200
    database.events.insert_many([{"name": f"e{n}", "__v": 0} for n in range(300)])
    worker = make_app()
    feed = worker.extensions["changes"]
    claimed_current = []
    for collection in ("revoked_tokens", "users"):
        load = feed.mirrors[collection].load
        feed.mirrors[collection].load = lambda db, load=load: (claimed_current.append(feed.fresh()), load(db))

    feed_current(worker)

    assert claimed_current == [False, False]
    assert worker.test_client().get("/auth/tickets", headers=headers).status_code == 401
