"""Payments against a stand-in that goes away, and webhooks the stand-in really sends."""

import pytest
import requests

from support import VISA, WEBHOOK_SECRET, browser_confirms, pay, stored, wait_for
from ticket_api.embedded import EmbeddedStripe, free_port


@pytest.fixture
def own_standin():
    """A stand-in of this test's own, free to stop and start again on the same port."""
    standin = EmbeddedStripe().start()
    yield standin
    standin.stop()


def test_stand_in_down_is_502_and_paying_works_once_it_is_back(make_app, own_standin, auth, events, database):
    client = make_app(STRIPE_API_BASE=own_standin.url, STRIPE_TIMEOUT_SECONDS=2).test_client()
    buyer = auth.user_headers()
    event = events.create(capacity=5, price=1000)
    ticket = client.post("/tickets", json={"eventId": event["_id"]}, headers=buyer).json
    own_standin.stop()

    keyed = {**buyer, "Idempotency-Key": "retry-me"}
    down = pay(client, keyed, ticket)
    assert down.status_code == 502
    assert down.json == {"message": "Payment provider unavailable"}
    assert stored(database, ticket)["status"] == "pending"
    assert "chargingSince" not in stored(database, ticket)
    assert database.payments.count_documents({}) == 0

    assert database.idempotency_keys.count_documents({}) == 0  # a 5xx is not kept

    own_standin.start()
    back = pay(client, keyed, ticket)

    assert back.status_code == 200
    assert back.json["ticket"]["status"] == "confirmed"


def test_the_stand_ins_webhook_confirms_the_browser_flow(live_server, stripe_standin, auth, events, database):
    stripe_standin.register_webhook(f"{live_server}/payment/webhook", WEBHOOK_SECRET)
    try:
        buyer = auth.user_headers()
        event = events.create(capacity=5, price=1000)
        ticket = requests.post(f"{live_server}/tickets", json={"eventId": event["_id"]}, headers=buyer).json()
        started = requests.post(
            f"{live_server}/payment", json={"ticketId": ticket["_id"], "amount": 1000}, headers=buyer
        ).json()

        browser_confirms(stripe_standin.url, started["paymentId"], started["clientSecret"], VISA)

        handled = {"type": "payment_intent.succeeded"}
        assert wait_for(lambda: database.stripe_events.count_documents(handled) == 1)  # recorded once handled
        assert stored(database, ticket)["status"] == "confirmed"
    finally:
        stripe_standin.register_webhook(f"http://127.0.0.1:{free_port()}/nowhere", WEBHOOK_SECRET)
