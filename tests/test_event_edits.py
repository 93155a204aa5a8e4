"""`PATCH /events/<id>`, the fields every event gained with it (`status`, `refundDeadline`),
and a cancelled event taking no more seats: every answer with its exact body, the ETag
that makes a stale edit a 412, and the capacity that never falls below the seats held and
sold, whatever buyers do meanwhile (the dangerous orders forced, then raced). Each
interleaving's docstring names the one-line bug it exists to catch."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from support import command_on, db_id, in_days, lapse, pay, refused, reserve, seats_taken, stored, wait_for
from ticket_api.db import utcnow
from ticket_api.events.schemas import EventEditSchema
from ticket_api.stores import events as store

CAPACITY_BELOW_SOLD = "capacity_below_sold"
CANCELLED = {"message": "This event is cancelled", "code": "event_cancelled"}
STALE = {"message": "The event changed since it was read (If-Match): read it again", "code": "precondition_failed"}
DEADLINE_AFTER_DATE = {"refundDeadline": ["Must not be after the event's date."]}
DEADLINE_AFTER_STORED_DATE = {"message": "Invalid data", "code": "invalid_data",
                              "errors": {"json": DEADLINE_AFTER_DATE}}


def below_sold(seats):
    return {"message": f"The capacity cannot be less than the {seats} seats already held and sold",
            "code": CAPACITY_BELOW_SOLD}


def edit(client, events, event, headers=None, **changes):
    return client.patch(f"/events/{event['_id']}", json=changes, headers={**events.admin, **(headers or {})})


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
    """Events stored before `status` and `refundDeadline` existed: shown, listed, sold and edited as scheduled."""
    event = events.create(capacity=5)
    database.events.update_one({"_id": db_id(event)}, {"$unset": {"status": "", "refundDeadline": ""}})

    one = client.get(f"/events/{event['_id']}").json
    listed = client.get("/events").json[0]
    sold = reserve(client, auth.user_headers(), event)
    edited = edit(client, events, event, name="Renamed")

    assert (one["status"], one["refundDeadline"]) == (listed["status"], listed["refundDeadline"]) == ("scheduled", None)
    assert sold.status_code == 201
    assert edited.status_code == 200
    assert (edited.json["status"], edited.json["refundDeadline"], edited.json["name"]) == ("scheduled", None, "Renamed")


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
    edited = edit(client, events, created, status="cancelled", seatsTaken=-5, __v=40)

    assert created["status"] == edited.json["status"] == "scheduled"
    assert edited.json["__v"] == 1
    assert database.events.find_one()["seatsTaken"] == 0


# PATCH: what it changes


def test_an_admin_edits_every_field_of_an_event(client, events, database):
    event = events.create(capacity=10, price=2500)
    date = datetime.now(UTC) + timedelta(days=60)
    changes = {"name": "Trio night", "date": iso(date), "capacity": 20, "price": 3000, "currency": "EUR",
               "location": "Small hall", "description": "Doors at 7\nNo re-entry", "image": "https://example.com/b.png",
               "maxPerUser": 4, "refundDeadline": iso(date - timedelta(days=2))}

    response = edit(client, events, event, **changes)

    assert response.status_code == 200
    assert response.json == {
        **event, **changes, "currency": "eur", "date": shown(date), "refundDeadline": shown(date - timedelta(days=2)),
        "ticketsAvailable": 20, "__v": 1, "updatedAt": response.json["updatedAt"],
    }
    assert response.json["updatedAt"] > event["updatedAt"]
    assert client.get(f"/events/{event['_id']}").json == response.json
    assert database.events.find_one()["currency"] == "eur"


def test_an_edit_changes_only_the_fields_it_sends(client, events):
    event = events.create(capacity=10, price=2500, currency="eur", location="Main hall", maxPerUser=3)

    response = edit(client, events, event, name="Renamed")

    assert response.status_code == 200
    assert response.json == {**event, "name": "Renamed", "__v": 1, "updatedAt": response.json["updatedAt"]}


def test_an_empty_edit_changes_nothing_but_its_version(client, events):
    event = events.create()

    response = edit(client, events, event)

    assert response.status_code == 200
    assert response.json == {**event, "__v": 1, "updatedAt": response.json["updatedAt"]}


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", ""), ("name", None), ("date", "next friday"), ("date", None), ("capacity", 0), ("capacity", "5"),
        ("capacity", None), ("price", -1), ("price", 2.5), ("currency", "EURO"), ("location", "x" * 201),
        ("image", "javascript:alert(1)"), ("maxPerUser", 101), ("refundDeadline", "soon"),
        ("name", {"$ne": None}), ("capacity", {"$gt": 0}),
    ],
)
def test_an_invalid_edit_is_refused(field, value):
    assert list(refused(EventEditSchema, {field: value})) == [field]


def test_an_invalid_edit_is_400_and_changes_nothing(client, events, database):
    event = events.create()

    response = edit(client, events, event, maxPerUser=101)

    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"
    assert list(response.json["errors"]["json"]) == ["maxPerUser"]
    assert database.events.find_one()["__v"] == 0


def test_an_edit_moving_the_date_into_the_past_is_refused(client, events, database):
    event = events.create()

    response = edit(client, events, event, date=in_days(-1))

    assert response.status_code == 400
    assert response.json["errors"] == {"json": {"date": ["Must be in the future."]}}
    assert database.events.find_one()["__v"] == 0


def test_an_edit_sending_a_refund_deadline_after_the_date_it_sends_is_refused(client, events):
    event = events.create()

    response = edit(client, events, event, date=in_days(5), refundDeadline=in_days(6))

    assert response.status_code == 400
    assert response.json["errors"] == {"json": DEADLINE_AFTER_DATE}


def test_an_edit_setting_a_refund_deadline_after_the_stored_date_is_refused(client, events, database):
    event = events.create(date=in_days(5))

    response = edit(client, events, event, refundDeadline=in_days(6))

    assert (response.status_code, response.json) == (400, DEADLINE_AFTER_STORED_DATE)
    assert database.events.find_one()["refundDeadline"] is None


def test_an_edit_moving_the_date_before_the_stored_refund_deadline_is_refused(client, events):
    event = events.create(date=in_days(10), refundDeadline=in_days(8))

    refused = edit(client, events, event, date=in_days(7))
    both = edit(client, events, event, date=in_days(7), refundDeadline=in_days(6))
    cleared = edit(client, events, event, date=in_days(5), refundDeadline=None)

    assert (refused.status_code, refused.json) == (400, DEADLINE_AFTER_STORED_DATE)
    assert both.status_code == 200
    assert (cleared.status_code, cleared.json["refundDeadline"]) == (200, None)


def test_editing_an_event_needs_an_admin(client, auth, events, database):
    event = events.create()

    anonymous = client.patch(f"/events/{event['_id']}", json={"name": "x"})
    plain_user = client.patch(f"/events/{event['_id']}", json={"name": "x"}, headers=auth.user_headers())

    assert (anonymous.status_code, anonymous.json) == (401, {"message": "Missing or malformed token",
                                                             "code": "unauthorized"})
    assert (plain_user.status_code, plain_user.json) == (403, {"message": "Admins only", "code": "forbidden"})
    assert database.events.find_one()["name"] == "Jazz night"


def test_editing_an_unknown_event_is_404_and_a_malformed_id_400(client, events):
    unknown = client.patch(f"/events/{ObjectId()}", json={"name": "x"}, headers=events.admin)
    malformed = client.patch("/events/123", json={"name": "x"}, headers=events.admin)

    assert (unknown.status_code, unknown.json) == (404, {"message": "Event not found", "code": "event_not_found"})
    assert malformed.status_code == 400
    assert malformed.json["errors"] == {"path": {"event_id": ["Not a valid id."]}}


def test_the_capacity_cannot_fall_below_the_seats_held_and_sold(client, auth, events, database):
    event = events.create(capacity=10)
    buyer = auth.user_headers()
    assert pay(client, buyer, reserve(client, buyer, event, quantity=2).json).status_code == 200  # sold
    reserve(client, auth.user_headers(), event, quantity=2)  # held
    reserve(client, auth.user_headers(), events.create(), quantity=3)  # another event's

    refused = edit(client, events, event, capacity=3)
    exact = edit(client, events, event, capacity=4)

    assert (refused.status_code, refused.json) == (409, below_sold(4))
    assert exact.status_code == 200
    assert (exact.json["capacity"], exact.json["ticketsAvailable"]) == (4, 0)
    assert database.events.find_one({"_id": db_id(event)})["capacity"] == 4


def test_a_capacity_edit_counts_lapsed_holds_as_free(client, auth, events, database):
    """The seats of a hold that lapsed are free again: released before the edit decides."""
    event = events.create(capacity=10)
    held = reserve(client, auth.user_headers(), event, quantity=4).json
    lapse(database, held)

    response = edit(client, events, event, capacity=1)

    assert (response.status_code, response.json["ticketsAvailable"]) == (200, 1)
    assert stored(database, held)["status"] == "expired"


def test_a_cancelled_event_cannot_be_edited(app, client, events, database):
    event = events.create()
    cancel(app, event)

    response = edit(client, events, event, name="Back on")

    assert (response.status_code, response.json) == (409, CANCELLED)
    assert database.events.find_one()["name"] == "Jazz night"


def test_a_new_price_applies_to_holds_made_afterwards_only(client, auth, events):
    event = events.create(capacity=10, price=2500)
    buyer = auth.user_headers()
    before = reserve(client, buyer, event, quantity=2).json

    edit(client, events, event, price=4000, currency="eur")
    after = reserve(client, auth.user_headers(), event, quantity=2).json
    paid = pay(client, buyer, before)

    assert (before["amount"], before["currency"]) == (5000, "usd")
    assert (after["amount"], after["currency"]) == (8000, "eur")
    assert client.get(f"/tickets/{before['_id']}", headers=buyer).json["amount"] == 5000
    assert paid.status_code == 200, paid.json
    assert paid.json["ticket"]["amount"] == 5000


def test_the_list_shows_an_edit_on_every_worker_within_a_second(make_app, client, events):
    event = events.create(capacity=5)
    first = client.get("/events")  # cached by this worker
    other_worker = make_app().test_client()

    other_worker.patch(f"/events/{event['_id']}", json={"name": "Moved", "capacity": 8}, headers=events.admin)
    edited = time.monotonic()

    def listed():
        return client.get("/events", headers={"If-None-Match": first.headers["ETag"]})

    assert wait_for(lambda: listed().status_code == 200, 1, every=0.01)
    assert time.monotonic() - edited < 1
    assert (listed().json[0]["name"], listed().json[0]["ticketsAvailable"]) == ("Moved", 8)


def test_the_worker_that_edits_lists_the_edit_at_once(client, events):
    event = events.create(capacity=5)
    first = client.get("/events")

    client.patch(f"/events/{event['_id']}", json={"name": "Moved", "capacity": 8}, headers=events.admin)
    listed = client.get("/events", headers={"If-None-Match": first.headers["ETag"]})

    assert listed.status_code == 200
    assert (listed.json[0]["name"], listed.json[0]["ticketsAvailable"]) == ("Moved", 8)


# ETags


def test_one_event_answers_304_until_it_changes(client, auth, events):
    event = events.create(capacity=5)
    first = client.get(f"/events/{event['_id']}")
    etag = first.headers["ETag"]

    again = client.get(f"/events/{event['_id']}", headers={"If-None-Match": etag})
    reserve(client, auth.user_headers(), event)
    changed = client.get(f"/events/{event['_id']}", headers={"If-None-Match": etag})

    assert (again.status_code, again.headers["ETag"], again.data) == (304, etag, b"")
    assert changed.status_code == 200
    assert changed.json["ticketsAvailable"] == 4
    assert changed.headers["ETag"] != etag


def test_an_edit_with_the_current_etag_applies_and_gives_the_next_one(client, events):
    event = events.create()
    etag = client.get(f"/events/{event['_id']}").headers["ETag"]

    response = edit(client, events, event, headers={"If-Match": etag}, name="Renamed")

    assert response.status_code == 200
    assert response.json["name"] == "Renamed"
    assert response.headers["ETag"] == client.get(f"/events/{event['_id']}").headers["ETag"] != etag


def test_an_edit_with_a_stale_etag_is_412_and_changes_nothing(client, auth, events, database):
    event = events.create()
    etag = client.get(f"/events/{event['_id']}").headers["ETag"]
    reserve(client, auth.user_headers(), event)  # the event shown changed: one seat fewer

    stale = edit(client, events, event, headers={"If-Match": etag}, name="Renamed")
    made_up = edit(client, events, event, headers={"If-Match": '"not-an-etag"'}, name="Renamed")

    assert (stale.status_code, stale.json) == (412, STALE)
    assert (made_up.status_code, made_up.json) == (412, STALE)
    assert database.events.find_one()["name"] == "Jazz night"


def test_an_edit_without_if_match_applies_to_the_event_as_stored(client, auth, events):
    event = events.create()
    reserve(client, auth.user_headers(), event)

    response = edit(client, events, event, name="Renamed")

    assert response.status_code == 200
    assert (response.json["name"], response.json["ticketsAvailable"]) == ("Renamed", 99)


def test_the_edit_is_documented_with_an_optional_if_match_and_no_defaults(client):
    """flask-smorest documents `If-Match` as required, with a 428, and a partial schema's load defaults."""
    spec = client.get("/openapi.json").json
    patch = spec["paths"]["/events/{event_id}"]["patch"]
    edit_fields = spec["components"]["schemas"]["EventEdit"]

    assert [p["required"] for p in patch["parameters"] if p.get("name") == "If-Match"] == [False]
    assert {"200", "400", "401", "403", "404", "409", "412"} <= set(patch["responses"])
    assert "428" not in patch["responses"]
    assert "required" not in edit_fields
    assert [name for name, field in edit_fields["properties"].items() if "default" in field] == []


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


def test_a_reservation_between_an_edits_read_and_its_write_keeps_the_capacity_above_the_seats_sold(
    spied, client, auth, events, database
):
    """Bug: the edit's filter without `"seatsTaken": {"$lte": capacity}` (the edit lowers the
    capacity below the seats a buyer took after it read the event)."""
    event = events.create(capacity=5)
    reserve(client, auth.user_headers(), event, quantity=1)
    spied.arm(command_on("find", "events"), lambda: reserve(client, auth.user_headers(), event, quantity=2))

    response = edit(spied.app.test_client(), events, event, capacity=2)

    assert spied.outcome().status_code == 201
    assert (response.status_code, response.json) == (409, below_sold(3))
    assert database.events.find_one()["capacity"] == 5
    assert seats_taken(database, event) == 3


def test_an_edit_between_a_reservations_read_and_its_write_leaves_it_sold_out(spied, client, auth, events, database):
    """Bug: the seat update's filter without `"capacity": capacity` (the buyer takes a seat
    of the capacity it read, which the edit just took away)."""
    event = events.create(capacity=5)
    reserve(client, auth.user_headers(), event, quantity=2)
    spied.arm(command_on("find", "events"), lambda: edit(client, events, event, capacity=2))

    response = reserve(spied.app.test_client(), auth.user_headers(), event)

    assert spied.outcome().status_code == 200
    assert (response.status_code, response.json) == (409, {"message": "Sold out", "code": "sold_out"})
    assert (database.events.find_one()["capacity"], seats_taken(database, event)) == (2, 2)


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


def test_a_cancellation_between_an_edits_read_and_its_write_keeps_the_event_as_cancelled(
    app, spied, events, database
):
    """Bug: the edit's filter without `"status": {"$ne": "cancelled"}`."""
    event = events.create()
    spied.arm(command_on("find", "events"), lambda: cancel(app, event))

    response = edit(spied.app.test_client(), events, event, name="Back on")

    assert spied.outcome() is True
    assert (response.status_code, response.json) == (409, CANCELLED)
    assert database.events.find_one()["name"] == "Jazz night"


def test_a_price_change_between_a_reservations_read_and_its_write_applies_to_it(spied, client, auth, events):
    """A hold is made at the price of the moment its seats are taken. Bug: the seat update's
    filter without `"price": event["price"]` (the ticket keeps the price its buyer read)."""
    event = events.create(capacity=5, price=2500)
    spied.arm(command_on("find", "events"), lambda: edit(client, events, event, price=4000))

    response = reserve(spied.app.test_client(), auth.user_headers(), event, quantity=2)

    assert spied.outcome().status_code == 200
    assert (response.status_code, response.json["amount"]) == (201, 8000)


def test_a_currency_change_between_a_reservations_read_and_its_write_applies_to_it(spied, client, auth, events):
    """Bug: the seat update's filter without `"currency": event["currency"]`."""
    event = events.create(capacity=5, price=2500, currency="usd")
    spied.arm(command_on("find", "events"), lambda: edit(client, events, event, currency="eur"))

    response = reserve(spied.app.test_client(), auth.user_headers(), event)

    assert spied.outcome().status_code == 200
    assert (response.status_code, response.json["currency"]) == (201, "eur")


def test_an_edit_between_another_edits_approval_and_its_write_makes_it_412(spied, client, events, database):
    """The ETag was right when the event was read, not when it was written. Bug: the edit's
    filter without `"__v": event["__v"]` under `If-Match` (the later edit overwrites the other)."""
    event = events.create()
    etag = client.get(f"/events/{event['_id']}").headers["ETag"]
    spied.arm(command_on("find", "events"), lambda: edit(client, events, event, name="Theirs"))

    response = edit(spied.app.test_client(), events, event, headers={"If-Match": etag}, name="Mine")

    assert spied.outcome().status_code == 200
    assert (response.status_code, response.json) == (412, STALE)
    assert database.events.find_one()["name"] == "Theirs"


def test_a_date_moved_between_an_edits_read_and_its_write_is_checked_against_its_deadline(
    spied, client, events, database
):
    """Bug: the edit's filter without the date it read (a deadline checked against the old
    date is written after the other edit moved the date before it)."""
    event = events.create(date=in_days(10))
    spied.arm(command_on("find", "events"), lambda: edit(client, events, event, date=in_days(5)))

    response = edit(spied.app.test_client(), events, event, refundDeadline=in_days(8))

    assert spied.outcome().status_code == 200
    assert (response.status_code, response.json) == (400, DEADLINE_AFTER_STORED_DATE)
    assert database.events.find_one()["refundDeadline"] is None


def test_a_deadline_set_between_an_edits_read_and_its_write_is_checked_against_its_date(
    spied, client, events, database
):
    """Bug: the edit's filter without the refund deadline it read (a date checked against no
    deadline is written after the other edit set one after it)."""
    event = events.create(date=in_days(10))
    spied.arm(command_on("find", "events"), lambda: edit(client, events, event, refundDeadline=in_days(8)))

    response = edit(spied.app.test_client(), events, event, date=in_days(5))

    assert spied.outcome().status_code == 200
    assert (response.status_code, response.json) == (400, DEADLINE_AFTER_STORED_DATE)
    assert database.events.find_one()["date"] > datetime.now(UTC) + timedelta(days=9)


# Raced


def test_shrinking_the_capacity_raced_against_fifty_buyers_never_leaves_it_below_the_seats_sold(
    app, auth, events, database
):
    event = events.create(capacity=60)
    buyers = auth.many_user_headers(50)
    shrinks = [45, 40, 35, 30, 25, 20]
    results, edits = [], []
    barrier = threading.Barrier(len(buyers) + len(shrinks))

    def buy(headers):
        client = app.test_client()
        barrier.wait()
        response = reserve(client, headers, event)
        results.append((response.status_code, response.json))

    def shrink(capacity):
        client = app.test_client()
        barrier.wait()
        response = edit(client, events, event, capacity=capacity)
        edits.append((capacity, response.status_code, response.json))

    threads = [threading.Thread(target=buy, args=(headers,)) for headers in buyers]
    threads += [threading.Thread(target=shrink, args=(capacity,)) for capacity in shrinks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    stored_event = database.events.find_one()
    sold = sum(status == 201 for status, _ in results)
    held = sum(ticket["quantity"] for ticket in database.tickets.find({"status": "pending"}))
    assert sold == held == stored_event["seatsTaken"] <= stored_event["capacity"]
    assert all(body == {"message": "Sold out", "code": "sold_out"} for status, body in results if status != 201)
    assert all(status == 200 or body["code"] == CAPACITY_BELOW_SOLD for _, status, body in edits), edits
    applied = [capacity for capacity, status, _ in edits if status == 200]
    assert stored_event["capacity"] in [60, *applied]
