"""Where money meets seats, the dangerous orders forced, not waited for.

Each test makes its bad interleaving happen every time: a stale state set up before the
report arrives (a second PaymentIntent, a lapsed hold of a started event), or a pymongo
`CommandListener` on a second app's client that, right after the command *before* the
guarded write has succeeded, runs the competing workflow to completion through the
ordinary app (`Interleave`). Nothing is mocked: the real database, the real stand-in.
Each docstring names the one-line bug its test exists to catch.
"""

from datetime import timedelta

import pytest
from bson import ObjectId

from support import (
    VISA,
    charge_refunded,
    intents_for,
    lapse,
    pay,
    refund_at_stripe,
    refunds_of,
    seats_taken,
    signed,
    stored,
)
from ticket_api.db import utcnow
from ticket_api.sales import refunds, seats, settlement
from ticket_api.stores.events import mark_cancelled

IN_PROGRESS = {"message": "A payment for this ticket is already in progress", "code": "payment_in_progress"}


@pytest.fixture
def others_hold(client, auth, event):
    """Someone else's pending 3 seats of the event, so a counter given back too often shows it."""
    response = client.post("/tickets", json={"eventId": event["_id"], "quantity": 3}, headers=auth.user_headers())
    assert response.status_code == 201, response.json


def succeeded(intent_id, ticket):
    return signed("payment_intent.succeeded",
                  {"id": intent_id, "object": "payment_intent", "metadata": {"ticketId": ticket["_id"]}})


def paid_elsewhere(stand_in, ticket, amount=None, currency=None):
    """A succeeded PaymentIntent naming `ticket`, made at Stripe without us (a second tab, a
    replayed checkout, a tampered one)."""
    intent = stand_in.payment_intents.create(params={
        "amount": amount or ticket["amount"], "currency": currency or ticket["currency"],
        "metadata": {"ticketId": ticket["_id"]}, "payment_method_types": ["card"],
    })
    intent = stand_in.payment_intents.confirm(intent.id, params={"payment_method": VISA})
    assert intent.status == "succeeded"
    return intent


def is_update_of(collection, setting):
    """The `update` on `collection` whose first update `$set`s the field `setting`."""

    def matches(name, command):
        return (name == "update" and command.get("update") == collection
                and setting in command["updates"][0]["u"].get("$set", {}))

    return matches


def test_a_second_intent_for_a_paid_ticket_is_refunded_and_the_first_kept(
    client, buyer, held, event, stand_in, database
):
    """Bug: settle's "settled already" check without `ticket.get("paymentIntent") == intent.id`
    (money of B kept, recorded as the ticket's payment)."""
    first = pay(client, buyer, held)
    assert first.status_code == 200
    a = first.json["paymentId"]
    b = paid_elsewhere(stand_in, held)

    response = client.post("/payment/webhook", **succeeded(b.id, held))

    assert response.status_code == 200
    assert [refund.amount for refund in refunds_of(stand_in, b.id)] == [5000]
    assert refunds_of(stand_in, a) == []
    ticket = stored(database, held)
    assert (ticket["status"], ticket["paymentIntent"]) == ("confirmed", a)
    assert seats_taken(database, event) == 2
    assert database.payments.find_one({"_id": a})["status"] == "succeeded"
    assert database.payments.find_one({"_id": b.id})["status"] == "refunded"


def test_a_second_intent_for_a_ticket_paying_in_the_browser_is_refunded_and_the_first_still_pays(
    client, buyer, held, event, stand_in, database
):
    """Bug: `tickets.confirm_paid`'s filter without its `paymentIntent` clause (B takes over
    a ticket whose own intent A can still be paid: charged twice)."""
    started = pay(client, buyer, held, token=None)
    assert started.status_code == 202
    a = started.json["paymentId"]
    b = paid_elsewhere(stand_in, held)

    response = client.post("/payment/webhook", **succeeded(b.id, held))

    assert response.status_code == 200
    assert [refund.amount for refund in refunds_of(stand_in, b.id)] == [5000]
    ticket = stored(database, held)
    assert (ticket["status"], ticket["paymentIntent"]) == ("pending", a)
    stand_in.payment_intents.confirm(a, params={"payment_method": VISA})
    assert client.get(f"/tickets/{held['_id']}", headers=buyer).json["status"] == "confirmed"
    assert stored(database, held)["paymentIntent"] == a
    assert refunds_of(stand_in, a) == []
    assert seats_taken(database, event) == 2


@pytest.mark.parametrize("amount, currency", [(4999, "usd"), (5000, "eur")], ids=["amount", "currency"])
def test_an_intent_of_the_wrong_amount_or_currency_is_refunded_and_confirms_nothing(
    client, held, event, stand_in, database, amount, currency
):
    """Bug: settle without its `intent.amount != ticket["amount"]` (or its currency) comparison
    (a ticket confirmed for 49.99, or for 50 euros instead of 50 dollars)."""
    wrong = paid_elsewhere(stand_in, held, amount=amount, currency=currency)

    response = client.post("/payment/webhook", **succeeded(wrong.id, held))

    assert response.status_code == 200
    assert [refund.amount for refund in refunds_of(stand_in, wrong.id)] == [amount]
    ticket = stored(database, held)
    assert ticket["status"] == "pending"
    assert ticket.get("paymentIntent") is None
    assert database.payments.count_documents({"status": "succeeded"}) == 0
    assert database.payments.find_one({"_id": wrong.id})["status"] == "refunded"
    assert seats_taken(database, event) == 2


@pytest.mark.usefixtures("others_hold")
def test_money_for_a_lapsed_hold_of_a_started_event_is_refunded(app, client, buyer, held, event, stand_in, database):
    """Bug: `retake_seats` not catching `seats.EventStarted` (the webhook fails with 400 and the
    money is kept), or the started check dropped from `seats.take` (seats sold after the start)."""
    intent_id = pay(client, buyer, held, token=None).json["paymentId"]
    stand_in.payment_intents.confirm(intent_id, params={"payment_method": VISA})  # the browser pays...
    lapse(database, held)
    with app.app_context():  # ...as the hold is released, its intent not cancelled (Stripe unreachable)
        assert seats.release_lapsed_holds(now=utcnow()) == 1
    assert stored(database, held)["status"] == "expired"
    database.events.update_one({"_id": ObjectId(event["_id"])}, {"$set": {"date": utcnow() - timedelta(hours=1)}})
    taken = seats_taken(database, event)
    assert taken == 3

    response = client.post("/payment/webhook", **succeeded(intent_id, held))

    assert response.status_code == 200, response.json
    assert [refund.amount for refund in refunds_of(stand_in, intent_id)] == [5000]
    assert stored(database, held)["status"] == "refunded"
    assert seats_taken(database, event) == taken
    assert database.payments.find_one({"_id": intent_id})["status"] == "refunded"


@pytest.mark.usefixtures("others_hold")
def test_money_for_a_lapsed_hold_of_a_cancelled_event_is_refunded(app, client, buyer, held, event, stand_in, database):
    """Bug: `retake_seats` not catching `seats.EventCancelled` (the webhook fails with 409 and
    the money is kept)."""
    intent_id = pay(client, buyer, held, token=None).json["paymentId"]
    stand_in.payment_intents.confirm(intent_id, params={"payment_method": VISA})  # the browser pays...
    lapse(database, held)
    with app.app_context():  # ...as the hold is released, and the event cancelled
        assert seats.release_lapsed_holds(now=utcnow()) == 1
        assert mark_cancelled(ObjectId(event["_id"]), now=utcnow())

    response = client.post("/payment/webhook", **succeeded(intent_id, held))

    assert response.status_code == 200, response.json
    assert [refund.amount for refund in refunds_of(stand_in, intent_id)] == [5000]
    assert stored(database, held)["status"] == "refunded"
    assert seats_taken(database, event) == 3


def test_a_refund_claimed_by_one_caller_is_not_made_again_by_another(app, spied, held, stand_in, database):
    """Bug: `payments.claim_refund`'s filter without `"refund": None` (the second caller,
    arriving right after the first claimed, refunds too: the money goes back twice)."""
    stray = paid_elsewhere(stand_in, held, amount=100)
    ticket = stored(database, held)

    def second_caller():
        with app.app_context():
            refunds.refund_stray(stray, ticket, now=utcnow())

    spied.arm(lambda name, command: name == "update" and command.get("update") == "payments"
              and command["updates"][0]["u"]["$set"].get("refund") == "started", second_caller)
    with spied.app.app_context():
        refunds.refund_stray(stray, ticket, now=utcnow())
    spied.outcome()

    assert [refund.amount for refund in refunds_of(stand_in, stray.id)] == [100]
    assert database.payments.find_one({"_id": stray.id})["refund"] == "done"
    assert stored(database, held)["status"] == "pending"


@pytest.mark.usefixtures("others_hold")
def test_a_refund_reported_twice_gives_the_seats_back_once(client, spied, buyer, held, event, database, stand_in):
    """Bug: `tickets.mark_refunded`'s update filter without `"__v": ticket["__v"]` (the
    report that read the ticket before the other wrote gives its seats back a second time)."""
    paid = pay(client, buyer, held)
    assert paid.status_code == 200
    intent_id = paid.json["paymentId"]
    assert seats_taken(database, event) == 5
    ticket_id = ObjectId(held["_id"])

    spied.arm(lambda name, command: name == "find" and command.get("find") == "tickets"
              and command.get("filter") == {"_id": ticket_id},
              lambda: client.post("/payment/webhook", **charge_refunded(intent_id)))
    first = spied.app.test_client().post("/payment/webhook", **refund_at_stripe(stand_in, intent_id))
    second = spied.outcome()

    assert first.status_code == second.status_code == 200
    assert stored(database, held)["status"] == "refunded"
    assert seats_taken(database, event) == 3
    assert database.payments.find_one({"_id": intent_id})["status"] == "refunded"


def test_a_failed_payment_event_delivered_again_leaves_a_new_attempts_claim_alone(
    client, spied, buyer, held, database
):
    """Bug: `handle_event` without its `event_handled` early return (the old decline, redelivered,
    ends the charge a new attempt is making: its claim dropped mid-charge)."""
    declined = pay(client, buyer, held, token="pm_card_chargeDeclined")
    assert declined.status_code == 402
    failure = signed("payment_intent.payment_failed", {
        "id": stored(database, held)["paymentIntent"],
        "object": "payment_intent", "metadata": {"ticketId": held["_id"]},
        "last_payment_error": {"message": "Your card was declined."},
    })
    assert client.post("/payment/webhook", **failure).status_code == 200

    def redelivered():
        before = stored(database, held)
        response = client.post("/payment/webhook", **failure)
        return before, response, stored(database, held)

    spied.arm(is_update_of("tickets", "chargingSince"), redelivered)
    retried = pay(spied.app.test_client(), buyer, held)
    before, response, after = spied.outcome()

    assert response.status_code == 200
    assert "chargingSince" in before
    assert after.get("chargingSince") == before["chargingSince"]
    assert after == before
    assert retried.status_code == 200
    assert retried.json["ticket"]["status"] == "confirmed"


def test_a_payment_retried_while_the_first_holds_the_claim_is_409_and_charges_once(
    client, spied, buyer, held, event, stand_in, database
):
    """Bug: `tickets.claim_for_charge`'s filter without `**not_charging(now)` (the retry
    claims too and makes its own charge)."""
    spied.arm(is_update_of("tickets", "chargingSince"), lambda: pay(client, buyer, held))

    first = pay(spied.app.test_client(), buyer, held)
    retried = spied.outcome()

    assert (retried.status_code, retried.json) == (409, IN_PROGRESS)
    assert first.status_code == 200
    assert first.json["ticket"]["status"] == "confirmed"
    [intent] = intents_for(stand_in, held)
    assert (intent.id, intent.status, intent.amount) == (first.json["paymentId"], "succeeded", 5000)
    assert database.payments.count_documents({"ticket": ObjectId(held["_id"])}) == 1
    assert seats_taken(database, event) == 2


@pytest.mark.usefixtures("others_hold")
def test_money_for_a_lapsed_hold_retaken_by_two_reports_is_kept_once(app, spied, client, buyer, held, event,
                                                                     stand_in, database):
    """The webhook and a poll both settle a payment that came after the hold lapsed; one
    confirms the ticket between the other's retaking the seats and its confirmation.

    Bug caught: `settlement.retake_seats` taking its missed confirmation for seats gone (the
    payment refunded while the ticket stays confirmed: a ticket for nothing).
    """
    intent_id = pay(client, buyer, held, token=None).json["paymentId"]
    intent = stand_in.payment_intents.confirm(intent_id, params={"payment_method": VISA})  # the browser pays...
    lapse(database, held)
    with app.app_context():  # ...as the hold is released, its intent not cancelled
        assert seats.release_lapsed_holds(now=utcnow()) == 1

    def the_other_report_settles_it():
        with app.app_context():
            return settlement.settle(intent, now=utcnow())["status"]

    spied.arm(lambda name, command: command.get(name) == "holdings", the_other_report_settles_it)
    with spied.app.app_context():
        settled = settlement.settle(intent, now=utcnow())
    assert spied.outcome() == "confirmed"

    assert settled["status"] == "confirmed"
    assert refunds_of(stand_in, intent_id) == []
    assert seats_taken(database, event) == 5
    assert database.holdings.find_one({"_id.user": stored(database, held)["user"]})["seats"] == 2
