"""Door codes: random, unique, of an alphabet without look-alikes; given on every path to
`confirmed` and shown only then, to the ticket's owner and staff."""

import pytest
from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from support import browser_confirms, lapse, pay, reserve, signed, stored
from ticket_api.stores import tickets as codes


def is_a_code(code):
    return isinstance(code, str) and len(code) == codes.CODE_LENGTH and set(code) <= set(codes.CODE_ALPHABET)


def test_ten_thousand_codes_are_unique_and_of_the_alphabet():
    made = [codes.new_code() for _ in range(10_000)]

    assert len(set(made)) == 10_000
    assert all(is_a_code(code) for code in made)
    assert not set(codes.CODE_ALPHABET) & set("01OILUV")


def test_the_database_refuses_a_code_twice_but_takes_tickets_without_one(database):
    database.tickets.insert_one({"code": "SAME"})

    with pytest.raises(DuplicateKeyError):
        database.tickets.insert_one({"code": "SAME"})
    database.tickets.insert_many([{"status": "confirmed"}, {"status": "confirmed"}])  # stored before codes


def test_a_free_ticket_has_its_code_at_once(client, buyer, events):
    ticket = reserve(client, buyer, events.create(capacity=5, price=0)).json

    assert ticket["status"] == "confirmed"
    assert is_a_code(ticket["code"])
    assert ticket["paidWith"] == "free"
    assert ticket["checkedInAt"] is None


def test_a_pending_hold_shows_no_code(client, buyer, held, database):
    assert held["code"] is None
    assert client.get(f"/tickets/{held['_id']}", headers=buyer).json["code"] is None
    assert is_a_code(stored(database, held)["code"])  # it has one, kept back until it is paid


def test_paid_at_once_shows_the_code(client, buyer, held, database):
    ticket = pay(client, buyer, held).json["ticket"]

    assert ticket["code"] == stored(database, held)["code"]
    assert ticket["paidWith"] == "card"


def test_paid_in_the_browser_then_polled_shows_the_code(client, buyer, held, stripe_standin):
    started = pay(client, buyer, held, token=None).json
    browser_confirms(stripe_standin.url, started["paymentId"], started["clientSecret"])

    polled = client.get(f"/tickets/{held['_id']}", headers=buyer).json

    assert polled["status"] == "confirmed"
    assert is_a_code(polled["code"])


def test_paid_by_webhook_shows_the_code(client, buyer, held, stripe_standin):
    started = pay(client, buyer, held, token=None).json
    browser_confirms(stripe_standin.url, started["paymentId"], started["clientSecret"])
    intent = {"id": started["paymentId"], "object": "payment_intent", "metadata": {"ticketId": held["_id"]}}

    assert client.post("/payment/webhook", **signed("payment_intent.succeeded", intent)).status_code == 200

    [mine] = client.get("/auth/tickets", headers=buyer).json
    assert mine["status"] == "confirmed"
    assert is_a_code(mine["code"])


def test_money_for_a_lapsed_hold_that_retakes_its_seats_shows_the_code(client, buyer, held, stripe_standin,
                                                                       database):
    started = pay(client, buyer, held, token=None).json
    browser_confirms(stripe_standin.url, started["paymentId"], started["clientSecret"])
    lapse(database, held)
    client.get("/events")

    ticket = client.get(f"/tickets/{held['_id']}", headers=buyer).json

    assert ticket["status"] == "confirmed"
    assert is_a_code(ticket["code"])


def test_nobody_else_sees_a_ticket_or_its_code(client, auth, buyer, events):
    ticket = reserve(client, buyer, events.create(capacity=5, price=0)).json
    other = auth.user_headers()

    assert client.get(f"/tickets/{ticket['_id']}", headers=other).status_code == 404
    assert ticket["code"] not in client.get("/auth/tickets", headers=other).get_data(as_text=True)
    assert client.get(f"/tickets/{ticket['_id']}", headers=auth.admin_headers()).json["code"] == ticket["code"]


def test_reconcile_gives_a_code_to_tickets_stored_before_codes(client, runner, buyer, events, database):
    ticket = reserve(client, buyer, events.create(capacity=5, price=0)).json
    database.tickets.update_one({"_id": ObjectId(ticket["_id"])}, {"$unset": {"code": "", "paidWith": ""}})

    result = runner.invoke(args=["reconcile", "--settle-seconds", "0"])

    assert "1 tickets stored before door codes existed were given one" in result.output
    shown = client.get(f"/tickets/{ticket['_id']}", headers=buyer).json
    assert is_a_code(shown["code"])
    assert shown["paidWith"] == "free"
