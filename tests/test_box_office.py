"""`POST /events/<id>/tickets`: staff sell for cash or give a comp at the door, to a walk-in or
to a registered user; confirmed at once with a door code, counted against capacity in the
same atomic update as any online sale."""

import pytest
from bson import ObjectId

from support import at_once, begin, reserve, seats_taken, stored


def sell(client, headers, event, **fields):
    return client.post(f"/events/{event['_id']}/tickets", json=fields, headers=headers)


@pytest.fixture
def show(events):
    return events.create(capacity=10, price=2500)


def test_a_walk_in_pays_cash(client, events, show, database):
    response = sell(client, events.admin, show, quantity=2, paidWith="cash", name="Grace Hopper",
                    email="grace@example.com")

    assert response.status_code == 201, response.json
    ticket = response.json
    assert (ticket["status"], ticket["paidWith"]) == ("confirmed", "cash")
    assert (ticket["amount"], ticket["quantity"]) == (5000, 2)
    assert ticket["holder"] == {"name": "Grace Hopper", "email": "grace@example.com"}
    assert ticket["user"] is None
    assert ticket["code"] == stored(database, ticket)["code"] and len(ticket["code"]) == 27
    assert ticket["event"]["ticketsAvailable"] == 8
    assert seats_taken(database, show) == 2


def test_a_comp_for_a_registered_user_is_theirs(client, auth, events, show):
    ada = auth.signup(username="ada", email="ada@example.com")
    headers = {"Authorization": f"Bearer {auth.login('ada@example.com')}"}

    response = sell(client, events.admin, show, quantity=1, paidWith="comp", email="ADA@example.com")

    assert response.status_code == 201
    assert (response.json["amount"], response.json["paidWith"]) == (0, "comp")
    assert response.json["holder"] == {"_id": ada["_id"], "username": "ada", "email": "ada@example.com"}
    [mine] = client.get("/auth/tickets", headers=headers).json
    assert mine["_id"] == response.json["_id"]
    assert mine["code"] == response.json["code"]


def test_an_email_nobody_has_is_user_not_found_and_takes_no_seat(client, events, show, database):
    response = sell(client, events.admin, show, quantity=1, paidWith="cash", email="nobody@example.com")

    assert response.status_code == 404
    assert response.json["message"] == "User not found"
    assert seats_taken(database, show) == 0


@pytest.mark.parametrize("fields", [
    {"quantity": 1, "paidWith": "cash"},
    {"quantity": 1, "paidWith": "card", "name": "A"},
    {"quantity": 0, "paidWith": "cash", "name": "A"},
    {"quantity": 101, "paidWith": "cash", "name": "A"},
    {"quantity": 1, "paidWith": "cash", "name": ""},
    {"quantity": 1, "paidWith": "cash", "name": {"$ne": None}},
    {"quantity": 1, "paidWith": "cash", "email": "not an email"},
], ids=["nobody", "card", "none", "too-many", "empty-name", "operator", "bad-email"])
def test_a_bad_sale_is_400_and_takes_no_seat(client, events, show, database, fields):
    response = sell(client, events.admin, show, **fields)

    assert response.status_code == 400
    assert seats_taken(database, show) == 0


def test_staff_only_and_a_known_open_event(client, auth, events, show):
    assert sell(client, auth.user_headers(), show, quantity=1, paidWith="comp", name="A").status_code == 403
    assert client.post(f"/events/{show['_id']}/tickets", json={"quantity": 1}).status_code == 401
    assert sell(client, events.admin, {"_id": str(ObjectId())}, quantity=1, paidWith="comp", name="A").status_code \
        == 404
    sell(client, events.admin, show, quantity=10, paidWith="comp", name="A")
    sold_out = sell(client, events.admin, show, quantity=1, paidWith="comp", name="B")
    assert (sold_out.status_code, sold_out.json["message"]) == (409, "Sold out")
    client.post(f"/events/{show['_id']}/cancel", headers=events.admin)
    cancelled = sell(client, events.admin, show, quantity=1, paidWith="comp", name="C")
    assert (cancelled.status_code, cancelled.json["code"]) == (409, "event_cancelled")


def test_the_box_office_sells_while_the_show_is_on(client, buyer, events, show, database):
    begin(database, show, days_ago=0)

    assert reserve(client, buyer, show).status_code == 400  # online sales end at the start
    assert sell(client, events.admin, show, quantity=1, paidWith="cash", name="Late").status_code == 201


def test_a_comp_is_not_limited_by_max_per_user_but_counts_after(client, auth, events):
    event = events.create(capacity=20, price=0, maxPerUser=2)
    auth.signup(email="ada@example.com")
    headers = {"Authorization": f"Bearer {auth.login('ada@example.com')}"}

    assert sell(client, events.admin, event, quantity=5, paidWith="comp", email="ada@example.com").status_code == 201

    assert reserve(client, headers, event).json["code"] == "seat_limit"


def test_a_box_office_ticket_given_back_frees_its_seats(client, events, show, database):
    ticket = sell(client, events.admin, show, quantity=3, paidWith="cash", name="A").json

    response = client.post(f"/tickets/{ticket['_id']}/cancel", headers=events.admin)

    assert response.json["status"] == "cancelled"
    assert seats_taken(database, show) == 0


def test_a_cash_sale_racing_online_buyers_for_the_last_seats_never_oversells(app, auth, events, database):
    event = events.create(capacity=5, price=1000)
    buyers = auth.many_user_headers(12)
    online = [lambda headers=headers: reserve(app.test_client(), headers, event, quantity=1).status_code
              for headers in buyers]
    box_office = [lambda: sell(app.test_client(), events.admin, event, quantity=2, paidWith="cash",
                               name="Walk-in").status_code] * 2

    statuses = at_once(*online, *box_office)

    sold = statuses[:12].count(201) + 2 * statuses[12:].count(201)
    assert sold == seats_taken(database, event) <= 5
    held = sum(ticket["quantity"] for ticket in database.tickets.find({"event": ObjectId(event["_id"])}))
    assert held == seats_taken(database, event)
    assert set(statuses) <= {201, 409}
