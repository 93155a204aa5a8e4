"""Where seats are counted, the dangerous orders forced, not waited for: another worker's
client is watched by an `Interleave`, which acts between the read and the conditional
write it guards, or a second worker is handed a stale snapshot. Nothing is mocked. Each
docstring names the one-line bug its test exists to catch (README, "What each guarantee
rests on")."""

from datetime import timedelta

from bson import ObjectId

from support import command_on, lapse, reserve, seats_taken, stored
from ticket_api.db import utcnow
from ticket_api.sales import seats
from ticket_api.stores.events import give_back_seats


def test_a_seat_update_that_meets_a_started_event_takes_nothing(spied, auth, events, database):
    """Bug: the seat update's filter without `"date": {"$gt": now}`."""
    event = events.create(capacity=5)
    headers = auth.user_headers()
    spied.arm(command_on("find", "events"), lambda: database.events.update_one(
        {"_id": ObjectId(event["_id"])}, {"$set": {"date": utcnow() - timedelta(days=1)}}))

    response = reserve(spied.app.test_client(), headers, event)

    spied.outcome()
    assert (response.status_code, response.json) == (400, {"message": "Event already started", "code": "event_started"})
    assert seats_taken(database, event) == 0


def test_a_seat_update_that_meets_a_cancelled_event_takes_nothing(spied, client, auth, events, database):
    """Bug: the seat update's filter without the event's `status` (`NOT_CANCELLED`)."""
    event = events.create(capacity=5)
    headers = auth.user_headers()
    spied.arm(command_on("find", "events"), lambda: client.post(
        f"/events/{event['_id']}/cancel", json={}, headers=auth.admin_headers()))

    response = reserve(spied.app.test_client(), headers, event)

    assert spied.outcome().status_code == 200
    assert (response.status_code, response.json) == (409, {"message": "This event is cancelled",
                                                           "code": "event_cancelled"})
    assert seats_taken(database, event) == 0


def test_seats_taken_by_another_buyer_between_the_read_and_the_write_are_not_sold_twice(
    spied, client, auth, events, database
):
    """Bug: the seat update's filter without `"seatsTaken": {"$lte": capacity - quantity}`."""
    event = events.create(capacity=2)
    headers = auth.user_headers()
    spied.arm(command_on("find", "events"), lambda: reserve(client, auth.user_headers(), event))

    response = reserve(spied.app.test_client(), headers, event, quantity=2)

    assert spied.outcome().status_code == 201
    assert (response.status_code, response.json) == (409, {"message": "Sold out", "code": "sold_out"})
    assert seats_taken(database, event) == 1


def test_a_lapsed_hold_released_by_two_workers_gives_its_seats_back_once(spied, app, client, auth, events, database):
    """The second worker read the lapsed hold before the first released it (a stale snapshot).

    Bug: `tickets.expire`'s filter without `"status": "pending"`.
    """
    event = events.create(capacity=10)
    held = reserve(client, auth.user_headers(), event, quantity=2).json
    reserve(client, auth.user_headers(), event, quantity=3)
    lapse(database, held)

    def the_first_worker_releases_it():
        with app.app_context():
            return seats.release_lapsed_holds(now=utcnow())

    spied.arm(command_on("find", "tickets"), the_first_worker_releases_it)
    with spied.app.app_context():
        released_by_the_second = seats.release_lapsed_holds(now=utcnow())

    assert spied.outcome() == 1
    assert released_by_the_second == 0
    assert seats_taken(database, event) == 3
    assert stored(database, held)["status"] == "expired"


def test_a_give_back_never_drives_the_counter_below_zero(app, events, database):
    """A counter that has drifted below what is given back (a repair ran meanwhile) stays as it is.

    Bug: `give_back_seats`'s filter without `"seatsTaken": {"$gte": quantity}`.
    """
    event = events.create(capacity=10)
    database.events.update_one({"_id": ObjectId(event["_id"])}, {"$set": {"seatsTaken": 1}})

    with app.app_context():
        give_back_seats(ObjectId(event["_id"]), 3, now=utcnow())

    assert seats_taken(database, event) == 1


def test_a_ticket_stored_despite_a_failed_insert_keeps_its_seats_when_the_check_fails_too(
    spied, auth, events, database, fail_point
):
    """The insert is applied but reported failed (a write concern error), and the find that
    would tell fails as well: the seats stay taken (a seat kept too long is repaired by
    `reconcile`; a seat given back twice could be sold twice).

    Bug: `might_be_stored` answering False when its find fails.
    """
    event = events.create(capacity=5)
    headers = auth.user_headers()

    def once_the_account_is_counted():
        """The next insert is the ticket's. Its reply is a success carrying the write concern
        error (so the listener hears a success); the find after it is retried once by the
        driver (a retryable read): both fail."""
        fail_point("insert", writeConcernError={"code": 64, "errmsg": "waiting for replication timed out"})
        spied.arm(command_on("insert", "tickets"), lambda: fail_point("find", times=2, close_connection=True))

    spied.arm(command_on("insert", "holdings"), once_the_account_is_counted)

    response = reserve(spied.app.test_client(), headers, event, quantity=2)

    spied.outcome()
    assert response.status_code in (500, 503)
    assert database.tickets.count_documents({}) == 1
    assert seats_taken(database, event) == 2


def test_an_event_that_started_earlier_today_is_refused_at_once(counted, auth, events, database):
    """One read of the event says so: no seat update is tried, so no retry loop can spin.

    Bug: "started" decided by the day (`event["date"].date() < now.date()`): the update's
    filter then never matches, and the bounded loop ends in a 500 after 20 tries.
    """
    event = events.create(capacity=5)
    database.events.update_one({"_id": ObjectId(event["_id"])}, {"$set": {"date": utcnow() - timedelta(hours=1)}})
    headers = auth.user_headers()
    worker, log = counted

    response = reserve(worker, headers, event)

    assert (response.status_code, response.json) == (400, {"message": "Event already started", "code": "event_started"})
    assert ("update", "events") not in log.sent  # decided on one read, or on the worker's copy
    assert seats_taken(database, event) == 0


def test_a_ticket_insert_that_fails_gives_the_seats_back(spied, auth, events, database, fail_point):
    """The account is counted, then the ticket's insert fails (the connection closed before
    it ran): no ticket, the seats go back, and a retry works."""
    event = events.create(capacity=5)
    headers = auth.user_headers()
    spied.arm(command_on("insert", "holdings"), lambda: fail_point("insert", close_connection=True))

    failed = reserve(spied.app.test_client(), headers, event, quantity=2)

    spied.outcome()
    assert failed.status_code in (500, 503)
    assert database.tickets.count_documents({}) == 0
    assert seats_taken(database, event) == 0
    assert reserve(spied.app.test_client(), headers, event, quantity=2).status_code == 201
