"""The fields every event gained (`status`, `refundDeadline`), and a cancelled event taking
no more seats, whatever the interleaving: every answer with its exact body. Each
interleaving's docstring names the one-line bug it exists to catch."""

from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from support import command_on, db_id, in_days, reserve, seats_taken
from ticket_api.db import utcnow
from ticket_api.events import store

CANCELLED = {"message": "This event is cancelled", "code": "event_cancelled"}
DEADLINE_AFTER_DATE = {"refundDeadline": ["Must not be after the event's date."]}


def iso(when):
    return when.isoformat()


def shown(when):
    """A datetime as the API shows it."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def cancel(app, event):
    with app.app_context():
        return store.mark_cancelled(db_id(event), now=utcnow())


# New fields


def test_a_new_event_is_scheduled_with_no_refund_deadline_unless_one_is_given(client, events):
    date = datetime.now(UTC) + timedelta(days=30)
    plain = events.create(date=iso(date))
    with_deadline = events.create(date=iso(date), refundDeadline=iso(date - timedelta(days=7)))

    assert (plain["status"], plain["refundDeadline"]) == ("scheduled", None)
    assert (with_deadline["status"], with_deadline["refundDeadline"]) == ("scheduled", shown(date - timedelta(days=7)))
    assert client.get(f"/events/{with_deadline['_id']}").json == with_deadline


def test_a_refund_deadline_may_be_the_date_itself_or_null(events):
    date = in_days(30)

    assert events.create(date=date, refundDeadline=date)["refundDeadline"] == shown(datetime.fromisoformat(date))
    assert events.create(refundDeadline=None)["refundDeadline"] is None


def test_an_event_stored_without_the_new_fields_reads_as_scheduled_with_no_deadline(client, auth, events, database):
    """Events stored before `status` and `refundDeadline` existed: shown, listed and sold as scheduled."""
    event = events.create(capacity=5)
    database.events.update_one({"_id": db_id(event)}, {"$unset": {"status": "", "refundDeadline": ""}})

    one = client.get(f"/events/{event['_id']}").json
    listed = client.get("/events").json[0]
    sold = reserve(client, auth.user_headers(), event)

    assert (one["status"], one["refundDeadline"]) == (listed["status"], listed["refundDeadline"]) == ("scheduled", None)
    assert sold.status_code == 201


def test_a_new_event_in_the_past_is_refused(client, events, database):
    response = client.post("/events", json={"name": "Gone", "date": in_days(-1), "capacity": 5}, headers=events.admin)

    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"
    assert response.json["errors"] == {"json": {"date": ["Must be in the future."]}}
    assert database.events.count_documents({}) == 0


def test_a_new_event_with_its_refund_deadline_after_its_date_is_refused(client, events, database):
    body = {"name": "Late", "date": in_days(10), "refundDeadline": in_days(11), "capacity": 5}

    response = client.post("/events", json=body, headers=events.admin)

    assert response.status_code == 400
    assert response.json["errors"] == {"json": DEADLINE_AFTER_DATE}
    assert database.events.count_documents({}) == 0


@pytest.mark.parametrize("value", ["next week", 1767225600, "2097-13-01T00:00:00Z", {"$ne": None}])
def test_a_malformed_refund_deadline_is_refused(client, events, value):
    response = client.post("/events", json={"name": "x", "date": in_days(10), "capacity": 5, "refundDeadline": value},
                           headers=events.admin)

    assert response.status_code == 400
    assert list(response.json["errors"]["json"]) == ["refundDeadline"]


def test_the_status_cannot_be_set_by_a_body(client, events, database):
    created = client.post("/events", json={"name": "x", "date": in_days(10), "capacity": 5, "status": "cancelled"},
                          headers=events.admin).json

    assert created["status"] == database.events.find_one()["status"] == "scheduled"


# PATCH: what it changes


# ETags


# A cancelled event


def test_a_cancelled_event_takes_no_reservation(app, client, auth, events, database):
    event = events.create(capacity=5)
    reserve(client, auth.user_headers(), event, quantity=2)

    assert cancel(app, event) is True
    response = reserve(client, auth.user_headers(), event)

    assert (response.status_code, response.json) == (409, CANCELLED)
    assert seats_taken(database, event) == 2
    assert database.tickets.count_documents({}) == 1
    assert client.get(f"/events/{event['_id']}").json["status"] == "cancelled"


def test_an_event_is_cancelled_once(app, events, database):
    event = events.create()

    first, again = cancel(app, event), cancel(app, event)
    with app.app_context():
        unknown = store.mark_cancelled(ObjectId(), now=utcnow())

    assert (first, again, unknown) == (True, False, False)
    assert database.events.find_one()["__v"] == 1


def test_a_cancellation_shows_in_the_list_at_once(app, client, events):
    event = events.create()
    client.get("/events")

    cancel(app, event)

    assert client.get("/events").json[0]["status"] == "cancelled"


# The dangerous orders, forced


def test_a_cancellation_between_a_reservations_read_and_its_write_takes_no_seat(
    app, spied, auth, events, database
):
    """Bug: the seat update's filter without `"status": {"$ne": "cancelled"}`."""
    event = events.create(capacity=5)
    spied.arm(command_on("find", "events"), lambda: cancel(app, event))

    response = reserve(spied.app.test_client(), auth.user_headers(), event)

    assert spied.outcome() is True
    assert (response.status_code, response.json) == (409, CANCELLED)
    assert seats_taken(database, event) == 0
    assert database.tickets.count_documents({}) == 0


# Raced


