"""Staff's view of an event's people and numbers: `GET /events/<id>/tickets` (JSON, or a
CSV file with `Accept: text/csv`) and `GET /events/<id>/summary`."""

import csv
import io
from datetime import UTC, datetime

import pytest
from bson import ObjectId
from pymongo import monitoring

from support import charge_refunded, db_id, lapse, pay, refund_at_stripe, reserve, stored
from ticket_api.db import INDEXES
from ticket_api.stores import tickets

CSV_COLUMNS = ["Ticket ID", "Status", "Quantity", "Amount (minor units)", "Currency", "Holder username",
               "Holder name", "Holder email", "Created at", "Checked in at"]
NO_TICKETS = {"pending": 0, "confirmed": 0, "expired": 0, "cancelled": 0, "refunded": 0}


def people(client, headers, event, query=""):
    return client.get(f"/events/{event['_id']}/tickets?{query}", headers=headers)


def as_csv(client, headers, event, query=""):
    response = client.get(f"/events/{event['_id']}/tickets?{query}", headers={**headers, "Accept": "text/csv"})
    assert response.status_code == 200, response.data
    return response, list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def summary(client, headers, event):
    return client.get(f"/events/{event['_id']}/summary", headers=headers)


def as_staff_see_it(client, admin, ticket, holder):
    """The ticket as `GET /tickets/<id>` shows it to staff, with its holder."""
    return {**client.get(f"/tickets/{ticket['_id']}", headers=admin).json, "holder": holder}


def walk_in(database, event, name, email=None, quantity=1, user=None, code="door-code-secret"):
    """A box-office ticket as that (later) route will store it: confirmed, paid in cash, no
    account but the holder's name and email (or a user's, who then owns it)."""
    now = datetime.now(UTC).replace(microsecond=0)
    ticket = {"event": db_id(event), "quantity": quantity, "amount": 2500 * quantity, "currency": "usd",
              "status": "confirmed", "paidWith": "cash", "code": code, "expiresAt": None,
              "holder": {"name": name, "email": email}, "createdAt": now, "updatedAt": now, "__v": 0}
    if user is not None:
        ticket["user"] = user
    database.tickets.insert_one(ticket)
    return {**ticket, "_id": str(ticket["_id"])}


class Buyer:
    """A signed-up, logged-in user: `headers`, and how staff see them (`holder`)."""

    def __init__(self, auth, **signup_fields):
        user = auth.signup(**signup_fields)
        self.headers = {"Authorization": f"Bearer {auth.login(user['email'])}"}
        self.holder = {"_id": user["_id"], "username": user["username"], "email": user["email"]}


# The list


def test_staff_see_each_ticket_with_its_holder_newest_first(client, auth, events):
    event = events.create(capacity=10, price=2500)
    ada, bob = Buyer(auth, username="ada", email="ada@example.com"), Buyer(auth, username="bob")
    first = reserve(client, ada.headers, event, quantity=2).json
    second = reserve(client, bob.headers, event).json
    assert pay(client, bob.headers, second).status_code == 200

    response = people(client, events.admin, event)

    assert response.status_code == 200
    assert response.json == [as_staff_see_it(client, events.admin, second, bob.holder),
                             as_staff_see_it(client, events.admin, first, ada.holder)]
    assert response.json[1]["holder"] == {"_id": ada.holder["_id"], "username": "ada", "email": "ada@example.com"}
    assert response.headers["X-Total-Count"] == "2"
    assert "passwordHash" not in response.get_data(as_text=True)


def test_a_walk_in_shows_the_name_and_email_stored_on_the_ticket(client, events, database):
    event = events.create(capacity=10, price=2500)
    ticket = walk_in(database, event, "Grace Hopper", "grace@example.com", quantity=2)

    response = people(client, events.admin, event)

    assert response.status_code == 200
    assert response.json == [{
        "_id": ticket["_id"], "event": client.get(f"/events/{event['_id']}").json, "user": None,
        "quantity": 2, "amount": 5000, "currency": "usd", "status": "confirmed", "expiresAt": None,
        "refundedAmount": 0, "createdAt": ticket["createdAt"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "updatedAt": ticket["updatedAt"].strftime("%Y-%m-%dT%H:%M:%S.000Z"), "__v": 0,
        "holder": {"name": "Grace Hopper", "email": "grace@example.com"},
        "paidWith": "cash", "code": "door-code-secret", "checkedInAt": None,  # staff may see the door code
    }]


def test_a_ticket_of_an_account_shows_the_account_and_one_of_a_deleted_user_no_holder(client, auth, events,
                                                                                      database):
    event = events.create(capacity=10, price=0)
    ada, gone = Buyer(auth, username="ada"), Buyer(auth)
    box_office = walk_in(database, event, "Ada at the box office", user=ObjectId(ada.holder["_id"]))
    orphan = reserve(client, gone.headers, event).json
    database.users.delete_one({"_id": ObjectId(gone.holder["_id"])})

    response = people(client, events.admin, event)

    holders = {ticket["_id"]: ticket["holder"] for ticket in response.json}
    assert holders == {box_office["_id"]: ada.holder, orphan["_id"]: None}


def test_the_holder_is_read_from_the_database_without_the_password_hash(app, client, auth, events, database):
    """Looked up in the database with only the fields shown: the hash never leaves it."""
    event = events.create(capacity=10, price=0)
    ada = Buyer(auth, username="ada")
    reserve(client, ada.headers, event)

    with app.app_context():
        (ticket,) = tickets.list_for_event(database.events.find_one({"_id": db_id(event)}))

    assert ticket["holder"] == {**ada.holder, "_id": ObjectId(ada.holder["_id"])}


def test_the_status_filter_keeps_one_status_once_lapsed_holds_are_released(client, auth, events, database):
    event = events.create(capacity=10, price=2500)
    buyer = Buyer(auth)
    paid = reserve(client, buyer.headers, event).json
    assert pay(client, buyer.headers, paid).status_code == 200
    lapsed = reserve(client, buyer.headers, event).json
    held = reserve(client, buyer.headers, event).json
    lapse(database, lapsed)

    def listed(status):
        response = people(client, events.admin, event, f"status={status}")
        assert response.status_code == 200
        return [ticket["_id"] for ticket in response.json], response.headers["X-Total-Count"]

    assert listed("pending") == ([held["_id"]], "1")
    assert listed("expired") == ([lapsed["_id"]], "1")
    assert listed("confirmed") == ([paid["_id"]], "1")
    assert listed("refunded") == ([], "0")
    assert people(client, events.admin, event).headers["X-Total-Count"] == "3"


def test_pages_and_the_total_count(client, auth, events):
    event = events.create(capacity=10, price=0)
    buyer = Buyer(auth)
    ids = [reserve(client, buyer.headers, event).json["_id"] for _ in range(5)]
    newest_first = ids[::-1]

    second_page = people(client, events.admin, event, "page=2&limit=2")
    last_page = people(client, events.admin, event, "page=3&limit=2&status=confirmed")
    past_the_end = people(client, events.admin, event, "page=4&limit=2")

    assert [ticket["_id"] for ticket in second_page.json] == newest_first[2:4]
    assert [ticket["_id"] for ticket in last_page.json] == newest_first[4:]
    assert past_the_end.json == []
    assert {second_page.headers["X-Total-Count"], last_page.headers["X-Total-Count"],
            past_the_end.headers["X-Total-Count"]} == {"5"}


def test_another_events_tickets_are_not_shown_or_counted(client, auth, events):
    event, other = events.create(capacity=10, price=0), events.create(capacity=10, price=0, name="other")
    buyer = Buyer(auth)
    mine = reserve(client, buyer.headers, event).json
    reserve(client, buyer.headers, other)
    reserve(client, buyer.headers, other)

    response = people(client, events.admin, event)
    confirmed = people(client, events.admin, event, "status=confirmed")

    assert [ticket["_id"] for ticket in response.json] == [mine["_id"]]
    assert response.headers["X-Total-Count"] == confirmed.headers["X-Total-Count"] == "1"
    assert [ticket["_id"] for ticket in confirmed.json] == [mine["_id"]]
    assert summary(client, events.admin, event).json["tickets"]["confirmed"] == 1


class QueryLog(monitoring.CommandListener):
    """The filters an app's client sends to `tickets` (a find's, a count's or an aggregation's `$match`)."""

    def __init__(self):
        self.filters = []

    def started(self, event):
        command = event.command
        if command.get(event.command_name) != "tickets":
            return
        if event.command_name == "find":
            self.filters.append(command["filter"])
        elif event.command_name == "aggregate" and "$match" in command["pipeline"][0]:
            self.filters.append(command["pipeline"][0]["$match"])

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


@pytest.mark.parametrize("query", ["", "?status=pending", "?limit=1&page=2"])
@pytest.mark.parametrize("route", ["tickets", "summary"])
def test_every_query_names_exactly_an_index_s_fields(make_app, auth, events, client, route, query):
    """The embedded database scans the whole collection for any other shape (`db.py`)."""
    log = QueryLog()
    worker = make_app(MONGODB_CLIENT_OPTIONS={"event_listeners": [log]}).test_client()
    event = events.create(capacity=10, price=2500)
    reserve(client, Buyer(auth).headers, event)
    log.filters.clear()

    assert worker.get(f"/events/{event['_id']}/{route}{query}", headers=events.admin).status_code == 200

    indexes = [set(index.document["key"]) for index in INDEXES["tickets"]]
    listed_by = {"event", "status"} if route == "tickets" and "status" in query else {"event"}
    assert listed_by in [set(found) for found in log.filters]
    for found in log.filters:
        assert set(found) in indexes, found


@pytest.mark.parametrize("route", ["tickets", "summary"])
def test_staff_only(client, auth, events, route):
    event = events.create()

    no_token = client.get(f"/events/{event['_id']}/{route}")
    a_user = client.get(f"/events/{event['_id']}/{route}", headers=auth.user_headers())

    assert (no_token.status_code, no_token.json) == (401, {"message": "Missing or malformed token",
                                                           "code": "unauthorized"})
    assert (a_user.status_code, a_user.json) == (403, {"message": "Admins only", "code": "forbidden"})


@pytest.mark.parametrize("route", ["tickets", "summary"])
def test_an_unknown_event_is_404_and_a_malformed_id_400(client, events, route):
    unknown = client.get(f"/events/{ObjectId()}/{route}", headers=events.admin)
    malformed = client.get(f"/events/nope/{route}", headers=events.admin)

    assert (unknown.status_code, unknown.json) == (404, {"message": "Event not found", "code": "event_not_found"})
    assert malformed.status_code == 400


@pytest.mark.parametrize("query", ["status=sold", "status=", 'status={"$ne":1}', "page=0", "limit=501"])
def test_a_bad_query_is_400(client, events, query):
    response = people(client, events.admin, events.create(), query)

    assert response.status_code == 400
    field = query.split("=")[0]
    assert list(response.json["errors"]["query"]) == [field]


def test_an_unknown_status_says_which_are_known(client, events):
    response = people(client, events.admin, events.create(), "status=sold")

    assert response.json == {"message": "Invalid data", "code": "invalid_data", "errors": {"query": {"status": [
        "Must be one of: pending, confirmed, expired, cancelled, refunded."]}}}


# The CSV file


def test_the_csv_has_every_matching_ticket_and_no_door_code(client, auth, events, database):
    event = events.create(capacity=20, price=2500)
    ada = Buyer(auth, username="ada", email="ada@example.com")
    held = reserve(client, ada.headers, event, quantity=3).json
    grace = walk_in(database, event, "Grace Hopper", "grace@example.com", quantity=2)
    admitted = datetime(2026, 12, 1, 20, 14, 5, 123000, tzinfo=UTC)
    database.tickets.update_one({"_id": ObjectId(grace["_id"])}, {"$set": {"checkedInAt": admitted}})
    for _ in range(3):
        reserve(client, ada.headers, event)
    listed = people(client, events.admin, event, "limit=500").json

    response, rows = as_csv(client, events.admin, event, "limit=2")

    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="event-{event["_id"]}-tickets.csv"'
    assert response.get_data(as_text=True).splitlines()[0] == ",".join(f'"{column}"' for column in CSV_COLUMNS)
    assert [row["Ticket ID"] for row in rows] == [ticket["_id"] for ticket in listed]  # every one: no paging
    by_id = {row["Ticket ID"]: row for row in rows}
    assert by_id[held["_id"]] == {
        "Ticket ID": held["_id"], "Status": "pending", "Quantity": "3", "Amount (minor units)": "7500",
        "Currency": "usd", "Holder username": "ada", "Holder name": "", "Holder email": "ada@example.com",
        "Created at": held["createdAt"], "Checked in at": "",
    }
    assert by_id[grace["_id"]] == {
        "Ticket ID": grace["_id"], "Status": "confirmed", "Quantity": "2", "Amount (minor units)": "5000",
        "Currency": "usd", "Holder username": "", "Holder name": "Grace Hopper", "Holder email": "grace@example.com",
        "Created at": grace["createdAt"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "Checked in at": "2026-12-01T20:14:05.123Z",
    }
    assert "door-code-secret" not in response.get_data(as_text=True)


def test_the_csv_keeps_the_status_filter(client, auth, events, database):
    event = events.create(capacity=20, price=2500)
    reserve(client, Buyer(auth).headers, event)
    walk_in(database, event, "Grace Hopper")

    _, pending = as_csv(client, events.admin, event, "status=pending")
    _, refunded = as_csv(client, events.admin, event, "status=refunded")

    assert [row["Status"] for row in pending] == ["pending"]
    assert refunded == []


@pytest.mark.parametrize("name, cell", [
    ('=HYPERLINK("http://x","Click")', '\'=HYPERLINK("http://x","Click")'),
    ("@SUM(1)", "'@SUM(1)"),
    ("+1+2", "'+1+2"),
    ("-2+3", "'-2+3"),
    ("\tcmd", "'\tcmd"),
    ("\rcmd", "'\rcmd"),
    ("O'Brien, Jr. = 1", "O'Brien, Jr. = 1"),
])
def test_a_cell_a_spreadsheet_would_run_is_escaped(client, events, database, name, cell):
    event = events.create(capacity=20, price=2500)
    walk_in(database, event, name, email=name)

    _, (row,) = as_csv(client, events.admin, event)

    assert (row["Holder name"], row["Holder email"]) == (cell, cell)


def test_a_username_a_spreadsheet_would_run_is_escaped(client, auth, events):
    event = events.create(capacity=20, price=0)
    reserve(client, Buyer(auth, username="-1-2").headers, event)

    _, (row,) = as_csv(client, events.admin, event)

    assert row["Holder username"] == "'-1-2"


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "text/csv;q=0.5, application/json",
                                    "text/csv; charset=utf-8; q=0"])
def test_json_unless_csv_is_asked_for(client, events, accept):
    event = events.create()
    headers = {**events.admin, **({"Accept": accept} if accept else {})}

    response = client.get(f"/events/{event['_id']}/tickets", headers=headers)

    assert (response.status_code, response.mimetype, response.json) == (200, "application/json", [])


@pytest.mark.parametrize("accept", ["text/csv; charset=utf-8", "text/csv; header=present", "text/csv;q=0.9"])
def test_csv_asked_for_with_parameters_is_csv(client, events, accept):
    """A media type's parameters (the reply's own `charset`, RFC 4180's `header`) do not
    make CSV asked for into JSON (werkzeug matches `text/csv` to no parameters only)."""
    event = events.create()

    response = client.get(f"/events/{event['_id']}/tickets", headers={**events.admin, "Accept": accept})

    assert (response.status_code, response.mimetype) == (200, "text/csv")
    assert response.get_data(as_text=True).splitlines() == [",".join(f'"{column}"' for column in CSV_COLUMNS)]


def test_the_csv_alternative_and_the_summary_are_documented(client):
    paths = client.get("/openapi.json").json["paths"]

    listed = paths["/events/{event_id}/tickets"]["get"]
    assert set(listed["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert "Accept: text/csv" in listed["responses"]["200"]["description"]
    assert {parameter["name"] for parameter in listed["parameters"]} >= {"status", "page", "limit"}
    counts = paths["/events/{event_id}/summary"]["get"]["responses"]["200"]["content"]["application/json"]
    assert counts["schema"]["$ref"].endswith("/EventSummary")


# The summary


def test_the_summary_of_a_mixed_sale(client, auth, events, database, stand_in):
    """A free ticket (1 seat), paid ones of 2 (checked in), 1 (1000 refunded in Stripe's
    dashboard) and 3 seats (refunded by staff), a hold of 2, a lapsed hold, a hold given up,
    and another event's ticket."""
    event = events.create(capacity=20, price=0)
    admin, buyer = events.admin, Buyer(auth)
    reserve(client, buyer.headers, event)
    assert client.patch(f"/events/{event['_id']}", json={"price": 2500}, headers=admin).status_code == 200
    checked_in, partly_refunded, refunded = (reserve(client, buyer.headers, event, quantity=seats).json
                                             for seats in (2, 1, 3))
    intents = {ticket["_id"]: pay(client, buyer.headers, ticket).json["paymentId"]
               for ticket in (checked_in, partly_refunded, refunded)}
    database.tickets.update_one({"_id": db_id(checked_in)}, {"$set": {"checkedInAt": datetime.now(UTC)}})
    partial = refund_at_stripe(stand_in, intents[partly_refunded["_id"]], amount=1000)
    assert client.post("/payment/webhook", **partial).status_code == 200
    assert client.post(f"/tickets/{refunded['_id']}/cancel", headers=admin).json["status"] == "refunded"
    reserve(client, buyer.headers, event, quantity=2)
    lapse(database, reserve(client, buyer.headers, event).json)
    given_up = reserve(client, buyer.headers, event).json
    assert client.post(f"/tickets/{given_up['_id']}/cancel", headers=buyer.headers).status_code == 200
    other = events.create(name="other", capacity=5, price=2500)
    assert pay(client, buyer.headers, reserve(client, buyer.headers, other).json).status_code == 200

    response = summary(client, admin, event)
    # Then Stripe's report of staff's refund arrives: a refunded ticket's money is counted once.
    assert client.post("/payment/webhook", **charge_refunded(intents[refunded["_id"]])).status_code == 200
    assert stored(database, refunded)["refundedAmount"] == 7500
    reported = summary(client, admin, event)

    assert response.status_code == 200
    assert response.json == reported.json == {
        "capacity": 20, "held": 2, "sold": 4, "available": 14, "checkedIn": 2,
        "tickets": {"pending": 1, "confirmed": 3, "expired": 1, "cancelled": 1, "refunded": 1},
        "revenue": {"currency": "usd", "gross": 15000, "refunded": 8500, "net": 6500},
    }


def test_the_summary_of_an_event_with_no_tickets(client, events):
    event = events.create(capacity=10, price=2500, currency="EUR")

    response = summary(client, events.admin, event)

    assert response.json == {"capacity": 10, "held": 0, "sold": 0, "available": 10, "checkedIn": 0,
                             "tickets": NO_TICKETS,
                             "revenue": {"currency": "eur", "gross": 0, "refunded": 0, "net": 0}}


def test_no_seats_available_is_never_below_zero(client, auth, events, database):
    """A capacity lowered in the database under the seats sold (the API refuses it)."""
    event = events.create(capacity=3, price=0)
    reserve(client, Buyer(auth).headers, event, quantity=3)
    database.events.update_one({"_id": db_id(event)}, {"$set": {"capacity": 1}})

    response = summary(client, events.admin, event)

    assert (response.json["capacity"], response.json["sold"], response.json["available"]) == (1, 3, 0)


def test_a_lapsed_hold_is_released_before_it_is_counted(client, auth, events, database):
    event = events.create(capacity=10, price=2500)
    buyer = Buyer(auth)
    lapse(database, reserve(client, buyer.headers, event, quantity=4).json)

    response = summary(client, events.admin, event)

    assert (response.json["held"], response.json["available"]) == (0, 10)
    assert response.json["tickets"] == {**NO_TICKETS, "expired": 1}
