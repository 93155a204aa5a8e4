"""Ways a worker's copy (`changes.py`) could claim to be current while it misses a change:
a stream that has fallen behind, a document deleted or rewritten by hand."""

import threading
import time

import pytest
from bson import ObjectId

from support import caught_up, feed_current, reserve, security_claims_of

BACKLOG = 1000  # writes: more than the embedded server hands back in one batch (101) or scans for one (200 entries)


def busy_applying(feed):
    """Hold the feed's thread while it applies a change (an event inserted by hand), once
    held: returns the event that lets it go on."""
    copy, held, resume = feed.mirrors["events"], threading.Event(), threading.Event()
    apply = copy.apply

    def slow(change, read):
        held.set()
        resume.wait(10)
        apply(change, read)

    copy.apply = slow
    feed.client[feed.database_name].events.insert_one({"name": "the change the feed is busy with", "__v": 0})
    assert held.wait(5)
    return resume


def just_marked(feed):
    """Hold the feed's thread right after it sent a mark, once held: returns the event
    that lets it go on (what comes next is behind the mark in the stream)."""
    held, resume = threading.Event(), threading.Event()
    mark_if_due = feed.mark_if_due

    def slow(marks):
        mark_if_due(marks)
        if feed.awaited is not None and not held.is_set():
            held.set()
            resume.wait(10)

    feed.mark_if_due = slow
    assert held.wait(5)
    return resume


@pytest.mark.parametrize("behind_on", ["events", "tickets"])
@pytest.mark.parametrize("hold", [busy_applying, just_marked])
def test_a_copy_never_counts_as_current_while_a_revocation_is_behind_a_backlog(make_app, auth, database, hold,
                                                                               behind_on):
    """The stream falls behind: a burst of writes, then a logout, land while its thread is
    held (applying a change, or having just sent a mark). Whether the burst is of a
    followed collection (the server answers at most 101 changes a batch) or of another
    one (it scans a few hundred entries per batch, and may answer an empty one), no copy
    may count as current, as of after the logout, while the logout is not in it: the
    token would pass, for as long as the backlog lasts."""
    first, second = make_app(), make_app()
    feed = feed_current(second)
    headers = auth.user_headers()
    jti = security_claims_of(first, headers)["jti"]
    other = second.test_client()
    resume = hold(feed)
    database[behind_on].insert_many([{"n": n, "__v": 0} for n in range(BACKLOG)])
    assert first.test_client().post("/auth/logout", headers=headers).status_code == 200
    logged_out = time.monotonic()
    revocations = feed.mirrors["revoked_tokens"]
    accepted = []

    def watch():
        while jti not in revocations.documents:
            if feed.fresh() and feed.complete_as_of > logged_out and jti not in revocations.documents:
                accepted.append(other.get("/auth/tickets", headers=headers).status_code)

    watcher = threading.Thread(target=watch)
    watcher.start()
    resume.set()
    watcher.join(20)

    assert jti in revocations.documents
    assert 200 not in accepted


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
