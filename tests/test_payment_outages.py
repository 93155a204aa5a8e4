"""Payments against a stand-in that goes away, then comes back."""

import pytest

from support import EmbeddedStripe, lapse, pay, reserve, stored


@pytest.fixture
def own_standin():
    """A stand-in of this test's own, free to stop and start again on the same port."""
    standin = EmbeddedStripe().start()
    yield standin
    standin.stop()


@pytest.mark.system
def test_stand_in_down_is_502_and_paying_works_once_it_is_back(make_app, own_standin, auth, events, database):
    client = make_app(STRIPE_API_BASE=own_standin.url, STRIPE_TIMEOUT_SECONDS=2).test_client()
    buyer = auth.user_headers()
    event = events.create(capacity=5, price=1000)
    ticket = client.post("/tickets", json={"eventId": event["_id"]}, headers=buyer).json
    own_standin.stop()

    keyed = {**buyer, "Idempotency-Key": "retry-me"}
    down = pay(client, keyed, ticket)
    assert down.status_code == 502
    assert down.json == {"message": "Payment provider unavailable", "code": "payment_provider_unavailable"}
    assert stored(database, ticket)["status"] == "pending"
    assert "chargingSince" not in stored(database, ticket)
    assert database.payments.count_documents({}) == 0

    assert database.idempotency_keys.count_documents({}) == 0  # a 5xx is not kept

    own_standin.start()
    back = pay(client, keyed, ticket)

    assert back.status_code == 200
    assert back.json["ticket"]["status"] == "confirmed"


def test_a_request_that_found_stripe_down_asks_it_nothing_more(make_app, client, auth, events, database,
                                                               stripe_hanging_up):
    """Polling a ticket cancels a lapsed hold's PaymentIntent, then asks about the ticket's
    own: with Stripe hanging, each would wait out a timeout (twice gunicorn's limit, as
    measured). Once one call found it down, the other is not made."""
    buyer = auth.user_headers()
    event = events.create(capacity=5, price=1000)
    lapsed, polled = (reserve(client, buyer, event).json for _ in range(2))
    for ticket in (lapsed, polled):
        assert pay(client, buyer, ticket, token=None).status_code == 202  # a PaymentIntent each
    lapse(database, lapsed)
    port, taken = stripe_hanging_up
    stripe_down = make_app(STRIPE_API_BASE=f"http://127.0.0.1:{port}", STRIPE_MAX_RETRIES=0)

    response = stripe_down.test_client().get(f"/tickets/{polled['_id']}", headers=buyer)

    assert (response.status_code, response.json["status"]) == (200, "pending")
    assert stored(database, lapsed)["status"] == "expired"
    assert len(taken) == 1
