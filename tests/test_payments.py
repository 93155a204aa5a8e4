"""Every row of API.md's Payment table, through the real SDK against a real stand-in process."""

import hashlib
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests
from bson import ObjectId

from support import VISA, WEBHOOK_SECRET, browser_confirms, charged, intents_for, lapse, pay, signed, stored


@pytest.fixture
def buyer(auth):
    return auth.user_headers()


@pytest.fixture
def held(client, events, buyer):
    """A pending ticket of `buyer`'s: 2 seats at 25.00."""
    event = events.create(capacity=10, price=2500)
    response = client.post("/tickets", json={"eventId": event["_id"], "quantity": 2}, headers=buyer)
    return response.json


def test_paying_a_held_ticket_confirms_it(client, buyer, held, stand_in, database):
    response = pay(client, buyer, held)

    assert response.status_code == 200
    body = response.json
    assert body["message"] == "Payment successful"
    assert body["ticket"]["status"] == "confirmed"
    assert body["ticket"]["expiresAt"] is None
    assert body["ticket"]["_id"] == held["_id"]
    [intent] = charged(stand_in, held)
    assert body["paymentId"] == intent.id
    assert (intent.amount, intent.currency) == (5000, "usd")
    payment = database.payments.find_one({"_id": intent.id})
    assert (payment["status"], payment["amount"], payment["ticket"]) == ("succeeded", 5000, ObjectId(held["_id"]))


@pytest.mark.parametrize("token", ["pm_card_visa", "pm_card_mastercard", "tok_visa"])
def test_the_test_methods_that_succeed(client, buyer, held, token):
    response = pay(client, buyer, held, token=token)

    assert response.status_code == 200
    assert response.json["ticket"]["status"] == "confirmed"


@pytest.mark.parametrize(
    "token, message",
    [
        ("pm_card_chargeDeclined", "Your card was declined."),
        ("pm_card_chargeDeclinedInsufficientFunds", "Your card has insufficient funds."),
        ("tok_chargeDeclined", "Your card was declined."),
    ],
)
def test_the_test_methods_that_decline(client, buyer, held, stand_in, database, token, message):
    response = pay(client, buyer, held, token=token)

    assert response.status_code == 402
    assert response.json == {"message": message}
    assert stored(database, held)["status"] == "pending"
    assert charged(stand_in, held) == []


@pytest.mark.parametrize("token", ["pm_card_threeDSecure2Required", "pm_card_authenticationRequired"])
def test_the_test_methods_that_ask_for_3d_secure(client, buyer, held, stand_in, database, token):
    response = pay(client, buyer, held, token=token)

    assert response.status_code == 202
    assert response.json["message"] == "Authentication required"
    [intent] = intents_for(stand_in, held)
    assert response.json == {"message": "Authentication required", "paymentId": intent.id,
                             "clientSecret": intent.client_secret}
    assert intent.status == "requires_action"
    assert stored(database, held)["status"] == "pending"


def test_a_declined_ticket_can_be_paid_with_another_card_on_the_same_intent(client, buyer, held, stand_in):
    assert pay(client, buyer, held, token="pm_card_chargeDeclined").status_code == 402

    response = pay(client, buyer, held, token=VISA)

    assert response.status_code == 200
    [intent] = intents_for(stand_in, held)
    assert intent.status == "succeeded"


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"amount": "5000"}, "amount"), ({"amount": 50.0}, "amount"), ({"amount": -1}, "amount"),
        ({"amount": {"$ne": None}}, "amount"), ({"ticketId": "nope"}, "ticketId"),
        ({"ticketId": {"$ne": None}}, "ticketId"), ({"token": "card_123"}, "token"),
        ({"token": {"$ne": None}}, "token"), ({"token": "pm_x; drop"}, "token"),
    ],
)
def test_invalid_payments_are_400_and_charge_nothing(client, buyer, held, stand_in, overrides, field):
    response = pay(client, buyer, held, **overrides)

    assert response.status_code == 400
    assert list(response.json["errors"]["json"]) == [field]
    assert intents_for(stand_in, held) == []


def test_a_different_amount_is_400_and_charges_nothing(client, buyer, held, stand_in, database):
    response = pay(client, buyer, held, amount=1)

    assert response.status_code == 400
    assert response.json == {"message": "Amount does not match"}
    assert intents_for(stand_in, held) == []
    assert stored(database, held)["status"] == "pending"


def test_someone_elses_ticket_is_404_and_charges_nothing(client, auth, held, stand_in):
    response = pay(client, auth.user_headers(), held)

    assert response.status_code == 404
    assert response.json == {"message": "Ticket not found"}
    assert intents_for(stand_in, held) == []


def test_an_unknown_ticket_is_404(client, buyer):
    response = pay(client, buyer, {"_id": str(ObjectId()), "amount": 100})

    assert response.status_code == 404


def test_an_expired_hold_is_409_and_charges_nothing(client, buyer, held, stand_in, database):
    lapse(database, held)

    response = pay(client, buyer, held)

    assert response.status_code == 409
    assert response.json == {"message": "Hold expired"}
    assert intents_for(stand_in, held) == []


def test_a_paid_ticket_cannot_be_paid_again(client, buyer, held, stand_in):
    assert pay(client, buyer, held).status_code == 200

    again = pay(client, buyer, held)

    assert again.status_code == 409
    assert again.json == {"message": "Ticket already paid"}
    assert len(intents_for(stand_in, held)) == 1


def test_a_free_ticket_needs_no_payment(client, events, buyer, stand_in):
    event = events.create(price=0)
    ticket = client.post("/tickets", json={"eventId": event["_id"]}, headers=buyer).json

    response = pay(client, buyer, ticket)

    assert response.status_code == 409
    assert response.json == {"message": "Free tickets need no payment"}
    assert intents_for(stand_in, ticket) == []


def test_paying_needs_a_token(client, held):
    assert client.post("/payment", json={"ticketId": held["_id"], "amount": held["amount"]}).status_code == 401


def test_ten_threads_paying_one_ticket_charge_once(app, buyer, held, stand_in, database):
    statuses = []
    barrier = threading.Barrier(10)

    def pay_once():
        client = app.test_client()
        barrier.wait()
        statuses.append(pay(client, buyer, held).status_code)

    threads = [threading.Thread(target=pay_once) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses.count(200) == 1
    assert set(statuses) == {200, 409}
    assert len(charged(stand_in, held)) == 1
    assert len(intents_for(stand_in, held)) == 1
    assert database.payments.count_documents({"ticket": ObjectId(held["_id"])}) == 1


def test_the_same_idempotency_key_replays_the_first_reply(client, buyer, held, stand_in):
    headers = {**buyer, "Idempotency-Key": "order-42"}

    first = pay(client, headers, held)
    second = pay(client, headers, held)

    assert first.status_code == second.status_code == 200
    assert second.json == first.json
    assert second.headers["Idempotent-Replayed"] == "true"
    assert len(intents_for(stand_in, held)) == 1


def test_a_replayed_decline_does_not_call_stripe_again(client, buyer, held, stand_in):
    headers = {**buyer, "Idempotency-Key": "try-1"}
    first = pay(client, headers, held, token="pm_card_chargeDeclined")
    [intent] = intents_for(stand_in, held)

    second = pay(client, headers, held, token="pm_card_chargeDeclined")

    assert first.status_code == second.status_code == 402
    assert second.json == first.json
    assert stand_in.payment_intents.retrieve(intent.id).last_payment_error is not None
    assert pay(client, {**buyer, "Idempotency-Key": "try-2"}, held).status_code == 200


def test_an_idempotency_key_with_another_body_is_400(client, buyer, held):
    headers = {**buyer, "Idempotency-Key": "order-43"}
    pay(client, headers, held, token="pm_card_chargeDeclined")

    response = pay(client, headers, held, token=VISA)

    assert response.status_code == 400
    assert response.json == {"message": "This Idempotency-Key was used for a different request"}


def test_idempotency_keys_belong_to_their_user(client, auth, held, buyer, stand_in):
    pay(client, {**buyer, "Idempotency-Key": "shared"}, held)

    other = pay(client, {**auth.user_headers(), "Idempotency-Key": "shared"}, held)

    assert other.status_code == 404


def test_client_side_flow_confirmed_by_polling_the_ticket(client, buyer, held, stripe_standin, database):
    started = pay(client, buyer, held, token=None)
    assert started.status_code == 202
    assert started.json["message"] == "Confirm the payment in the browser"
    assert stored(database, held)["status"] == "pending"

    confirmed = browser_confirms(stripe_standin.url, started.json["paymentId"], started.json["clientSecret"])
    assert confirmed.json()["status"] == "succeeded"

    polled = client.get(f"/tickets/{held['_id']}", headers=buyer)
    assert polled.json["status"] == "confirmed"
    assert database.payments.find_one({"_id": started.json["paymentId"]})["status"] == "succeeded"


def test_asking_again_without_a_token_returns_the_same_intent(client, buyer, held, stand_in):
    first = pay(client, buyer, held, token=None)
    second = pay(client, buyer, held, token=None)

    assert first.json == second.json
    assert len(intents_for(stand_in, held)) == 1


def test_3d_secure_flow_through_the_authenticate_step(client, buyer, held, stripe_standin):
    started = pay(client, buyer, held, token="pm_card_threeDSecure2Required")
    intent_id, secret = started.json["paymentId"], started.json["clientSecret"]

    requests.post(
        f"{stripe_standin.url}/v1/payment_intents/{intent_id}/_authenticate",
        data={"client_secret": secret, "success": "true", "key": "pk_test_tests"}, timeout=10,
    )

    assert client.get(f"/tickets/{held['_id']}", headers=buyer).json["status"] == "confirmed"


def test_a_charge_in_flight_keeps_its_hold_past_expiry(client, events, buyer, database):
    event = events.create(capacity=2, price=100)
    ticket = client.post("/tickets", json={"eventId": event["_id"], "quantity": 2}, headers=buyer).json
    now = datetime.now(UTC)
    lapse(database, ticket)
    database.tickets.update_one(
        {"_id": ObjectId(ticket["_id"])}, {"$set": {"chargingSince": now - timedelta(seconds=5)}}
    )

    assert client.get(f"/events/{event['_id']}").json["ticketsAvailable"] == 0
    assert stored(database, ticket)["status"] == "pending"

    database.tickets.update_one(
        {"_id": ObjectId(ticket["_id"])}, {"$set": {"chargingSince": now - timedelta(minutes=3)}}
    )
    assert client.get(f"/events/{event['_id']}").json["ticketsAvailable"] == 2
    assert stored(database, ticket)["status"] == "expired"


def test_a_released_hold_cancels_its_unfinished_intent(client, buyer, held, stand_in, stripe_standin, database):
    started = pay(client, buyer, held, token=None).json
    lapse(database, held)

    client.get("/events")

    assert stand_in.payment_intents.retrieve(started["paymentId"]).status == "canceled"
    late = browser_confirms(stripe_standin.url, started["paymentId"], started["clientSecret"])
    assert late.status_code == 400
    assert charged(stand_in, held) == []


def test_money_for_a_lapsed_hold_retakes_free_seats(client, buyer, held, stand_in, stripe_standin, database):
    started = pay(client, buyer, held, token=None).json
    browser_confirms(stripe_standin.url, started["paymentId"], started["clientSecret"])
    lapse(database, held)

    client.get("/events")

    assert stored(database, held)["status"] == "confirmed"
    assert database.events.find_one()["seatsTaken"] == 2


def test_money_for_a_lapsed_hold_whose_seats_were_sold_is_refunded(
    client, auth, buyer, held, stand_in, stripe_standin, database
):
    started = pay(client, buyer, held, token=None).json
    browser_confirms(stripe_standin.url, started["paymentId"], started["clientSecret"])
    ticket_id = ObjectId(held["_id"])
    database.tickets.update_one({"_id": ticket_id}, {"$set": {"status": "expired"}})
    database.events.update_one({}, {"$inc": {"seatsTaken": -2}})  # released while Stripe was down
    rival = client.post("/tickets", json={"eventId": held["event"]["_id"], "quantity": 10},
                        headers=auth.user_headers())
    assert rival.status_code == 201

    intent = {"id": started["paymentId"], "object": "payment_intent", "metadata": {"ticketId": held["_id"]}}
    response = client.post("/payment/webhook", **signed("payment_intent.succeeded", intent))

    assert response.status_code == 200
    assert stored(database, held)["status"] == "refunded"
    [refund] = [r for r in stand_in.refunds.list(params={"limit": 100}).data
                if r.payment_intent == started["paymentId"]]
    assert refund.amount == 5000
    assert database.events.find_one()["seatsTaken"] == 10


def test_a_signed_webhook_confirms_a_pending_ticket_once(client, buyer, held, stripe_standin, database):
    started = pay(client, buyer, held, token=None).json
    browser_confirms(stripe_standin.url, started["paymentId"], started["clientSecret"])
    intent = {"id": started["paymentId"], "object": "payment_intent", "metadata": {"ticketId": held["_id"]}}
    request = signed("payment_intent.succeeded", intent, event_id="evt_once")

    first = client.post("/payment/webhook", **request)
    version = stored(database, held)["__v"]
    second = client.post("/payment/webhook", **request)

    assert first.status_code == second.status_code == 200
    assert stored(database, held)["status"] == "confirmed"
    assert stored(database, held)["__v"] == version
    assert database.stripe_events.count_documents({"_id": "evt_once"}) == 1


@pytest.mark.parametrize("secret", ["whsec_wrong", None])
def test_a_webhook_with_a_bad_or_missing_signature_is_400(client, held, secret, database):
    request = signed("payment_intent.succeeded", {"id": "pi_x", "metadata": {"ticketId": held["_id"]}},
                     secret=secret or WEBHOOK_SECRET)
    if secret is None:
        del request["headers"]["Stripe-Signature"]

    response = client.post("/payment/webhook", **request)

    assert response.status_code == 400
    assert response.json == {"message": "Invalid webhook signature or payload"}
    assert database.stripe_events.count_documents({}) == 0


def test_a_refund_made_at_stripe_gives_the_seats_back(client, buyer, held, database):
    paid = pay(client, buyer, held).json
    charge = {"id": "ch_x", "object": "charge", "payment_intent": paid["paymentId"]}

    response = client.post("/payment/webhook", **signed("charge.refunded", charge))

    assert response.status_code == 200
    assert stored(database, held)["status"] == "refunded"
    assert database.events.find_one()["seatsTaken"] == 0


def test_a_key_whose_first_request_is_still_running_is_409(client, buyer, held, database):
    user_id = client.get("/auth/tickets", headers=buyer).json[0]["user"]
    database.idempotency_keys.insert_one({
        "_id": {"user": user_id, "key": "busy"}, "createdAt": datetime.now(UTC),
        "fingerprint": hashlib.sha256(json.dumps(
            {"amount": held["amount"], "ticketId": held["_id"], "token": VISA}, sort_keys=True
        ).encode()).hexdigest(),
    })

    response = pay(client, {**buyer, "Idempotency-Key": "busy"}, held)

    assert response.status_code == 409
    assert response.json == {"message": "A request with this Idempotency-Key is still running"}


def test_a_failed_payment_webhook_records_the_reason(client, buyer, held, database):
    started = pay(client, buyer, held, token=None).json
    intent = {"id": started["paymentId"], "object": "payment_intent", "metadata": {"ticketId": held["_id"]},
              "last_payment_error": {"message": "Your card was declined."}}

    response = client.post("/payment/webhook", **signed("payment_intent.payment_failed", intent))

    assert response.status_code == 200
    assert stored(database, held)["lastPaymentError"] == "Your card was declined."
    assert stored(database, held)["status"] == "pending"


def test_a_webhook_answers_5xx_when_the_database_fails_so_stripe_retries(client, held, fail_point, database):
    fail_point("find")
    intent = {"id": "pi_x", "object": "payment_intent", "metadata": {"ticketId": held["_id"]}}

    response = client.post("/payment/webhook", **signed("payment_intent.succeeded", intent, event_id="evt_retry"))

    assert response.status_code >= 500, response.json
    assert database.stripe_events.count_documents({}) == 0


def test_an_unknown_payment_method_is_400_and_charges_nothing(client, buyer, held, stand_in, database):
    response = pay(client, buyer, held, token="pm_card_doesNotExist")

    assert response.status_code == 400
    assert response.json["message"].startswith("Stripe refused the request: ")
    assert charged(stand_in, held) == []
    assert "chargingSince" not in stored(database, held)


def test_a_card_needing_3d_secure_can_be_swapped_for_another(client, buyer, held, stand_in):
    assert pay(client, buyer, held, token="pm_card_threeDSecure2Required").status_code == 202

    response = pay(client, buyer, held, token=VISA)

    assert response.status_code == 200
    assert len(intents_for(stand_in, held)) == 1


def test_paying_again_after_the_browser_already_paid_settles_without_charging(
    client, buyer, held, stand_in, stripe_standin
):
    started = pay(client, buyer, held, token=None).json
    browser_confirms(stripe_standin.url, started["paymentId"], started["clientSecret"])

    response = pay(client, buyer, held, token=VISA)

    assert response.status_code == 200
    assert response.json["ticket"]["status"] == "confirmed"
    assert len(charged(stand_in, held)) == 1
