"""The dangerous interleavings where seats are counted, forced every time rather than
left to thread timing: a command listener on the app's client acts between the read and
the conditional write it guards, or a second worker is handed a stale snapshot. Each
test names the one-line bug it exists to catch (README, "What each guarantee rests on")."""

from datetime import timedelta

import pytest
from bson import ObjectId
from pymongo import monitoring

from ticket_api import close, create_app, db
from ticket_api.events.store import give_back_seats
from ticket_api.sales import seats


class AfterCommand(monitoring.CommandListener):
    """Runs `action` once, right after the first command named `name` on `collection`
    succeeds: between the app's read (or write) and what it does next."""

    def __init__(self, name, collection, action):
        self.name, self.collection, self.action = name, collection, action
        self.request_ids = set()
        self.done = False

    def started(self, event):
        if event.command_name == self.name and event.command.get(self.name) == self.collection:
            self.request_ids.add(event.request_id)

    def succeeded(self, event):
        if event.request_id in self.request_ids and not self.done:
            self.done = True
            self.action()

    def failed(self, event):
        pass


class CommandNames(monitoring.CommandListener):
    """The (command, collection) of every command the app sends."""

    def __init__(self):
        self.sent = []

    def started(self, event):
        self.sent.append((event.command_name, event.command.get(event.command_name)))

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


@pytest.fixture
def app_with(settings):
    """A second app on the test database (another worker) whose client reports to `listener`."""
    made = []

    def make(listener=None):
        options = {"event_listeners": [listener]} if listener else {}
        made.append(create_app({**settings, "MONGODB_CLIENT_OPTIONS": options}))
        return made[-1]

    yield make
    for app in made:
        close(app)


@pytest.fixture
def fail_point(raw_client):
    """Arm SecantusDB's `failCommand` for the app's client; always disarmed after the test."""

    def arm(mode=None, **data):
        raw_client.admin.command("configureFailPoint", "failCommand", mode=mode or {"times": 1},
                                 data={"appName": "ticket_api", **data})

    yield arm
    raw_client.admin.command("configureFailPoint", "failCommand", mode="off")


def reserve(client, headers, event, quantity=1):
    return client.post("/tickets", json={"eventId": event["_id"], "quantity": quantity}, headers=headers)


def seats_taken(database, event):
    return database.events.find_one({"_id": ObjectId(event["_id"])})["seatsTaken"]


def test_a_seat_update_that_meets_a_started_event_takes_nothing(app_with, auth, events, database):
    """Bug caught: the seat update's filter without `"date": {"$gt": now}`."""
    event = events.create(capacity=5)
    headers = auth.user_headers()

    def the_event_starts():
        database.events.update_one({"_id": ObjectId(event["_id"])}, {"$set": {"date": db.utcnow() - timedelta(1)}})

    listener = AfterCommand("find", "events", the_event_starts)
    response = reserve(app_with(listener).test_client(), headers, event)

    assert listener.done
    assert response.status_code == 400
    assert response.json == {"message": "Event already started"}
    assert seats_taken(database, event) == 0


def test_seats_taken_by_another_buyer_between_the_read_and_the_write_are_not_sold_twice(
    app_with, auth, events, database
):
    """Bug caught: the seat update's filter without `"seatsTaken": {"$lte": capacity - quantity}`."""
    event = events.create(capacity=2)
    headers = auth.user_headers()

    def another_buyer_takes_one():
        database.events.update_one({"_id": ObjectId(event["_id"])}, {"$inc": {"seatsTaken": 1}})

    listener = AfterCommand("find", "events", another_buyer_takes_one)
    response = reserve(app_with(listener).test_client(), headers, event, quantity=2)

    assert listener.done
    assert response.status_code == 409
    assert seats_taken(database, event) == 1


def test_a_lapsed_hold_released_by_two_workers_gives_its_seats_back_once(app_with, client, auth, events, database):
    """The second worker read the lapsed hold before the first released it (a stale snapshot).

    Bug caught: `tickets.store.expire`'s filter without `"status": "pending"`.
    """
    event = events.create(capacity=10)
    held = reserve(client, auth.user_headers(), event, quantity=2).json
    reserve(client, auth.user_headers(), event, quantity=3)
    database.tickets.update_one({"_id": ObjectId(held["_id"])}, {"$set": {"expiresAt": db.utcnow() - timedelta(1)}})
    first_worker = app_with()

    def the_first_worker_releases_it():
        with first_worker.app_context():
            assert len(seats.release_lapsed(now=db.utcnow())) == 1

    second_worker = app_with(AfterCommand("find", "tickets", the_first_worker_releases_it))
    with second_worker.app_context():
        released_by_second = seats.release_lapsed(now=db.utcnow())

    assert released_by_second == []
    assert seats_taken(database, event) == 3
    assert database.tickets.find_one({"_id": ObjectId(held["_id"])})["status"] == "expired"


def test_a_give_back_never_drives_the_counter_below_zero(app, events, database):
    """A counter that has drifted below what is given back (a repair ran meanwhile) stays as it is.

    Bug caught: `give_back_seats`'s filter without `"seatsTaken": {"$gte": quantity}`.
    """
    event = events.create(capacity=10)
    database.events.update_one({"_id": ObjectId(event["_id"])}, {"$set": {"seatsTaken": 1}})

    with app.app_context():
        give_back_seats(ObjectId(event["_id"]), 3, now=db.utcnow())

    assert seats_taken(database, event) == 1


def test_a_ticket_stored_despite_a_failed_insert_keeps_its_seats_when_the_check_fails_too(
    app_with, auth, events, database, fail_point
):
    """The insert is applied but reported failed (a write concern error), and the find that
    would tell fails as well: the seats stay taken (a seat kept too long is repaired by
    `reconcile`; a seat given back twice could be sold twice).

    Bug caught: `might_be_stored` answering False when its find fails.
    """
    event = events.create(capacity=5)
    headers = auth.user_headers()
    fail_point(failCommands=["insert"], writeConcernError={"code": 64, "errmsg": "waiting for replication timed out"})
    # The insert's reply is a success with a write concern error (so the listener hears a
    # success); the find after it is retried once by the driver (a retryable read): both fail.
    then_fail_the_check = AfterCommand(
        "insert", "tickets", lambda: fail_point(mode={"times": 2}, failCommands=["find"], closeConnection=True)
    )
    response = reserve(app_with(then_fail_the_check).test_client(), headers, event, quantity=2)

    assert then_fail_the_check.done
    assert response.status_code in (500, 503)
    assert database.tickets.count_documents({}) == 1
    assert seats_taken(database, event) == 2


def test_an_event_that_started_earlier_today_is_refused_at_once(app_with, auth, events, database):
    """One read of the event says so: no seat update is tried, so no retry loop can spin.

    Bug caught: "started" decided by the day (`event["date"].date() < now.date()`): the
    update's filter then never matches and, unbounded, the loop would spin forever.
    """
    event = events.create(capacity=5)
    database.events.update_one({"_id": ObjectId(event["_id"])}, {"$set": {"date": db.utcnow() - timedelta(hours=1)}})
    headers = auth.user_headers()
    commands = CommandNames()
    worker = app_with(commands).test_client()
    commands.sent.clear()  # the indexes made at start

    response = reserve(worker, headers, event)

    assert response.status_code == 400
    assert response.json == {"message": "Event already started"}
    assert [sent for sent in commands.sent if sent[1] == "events"] == [("find", "events")]
    assert seats_taken(database, event) == 0
