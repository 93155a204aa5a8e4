"""A refused webhook says why in the log (a wrong STRIPE_WEBHOOK_SECRET is otherwise only a
400 Stripe sees), and never logs the secret."""

import logging

import pytest

from support import WEBHOOK_SECRET, signed

INTENT = {"id": "pi_x", "metadata": {"ticketId": "0" * 24}}


@pytest.fixture
def refusals(caplog):
    caplog.set_level(logging.WARNING, logger="ticket_api.stores.gateway")
    return caplog


def test_a_signature_made_with_another_secret_logs_the_likely_cause(client, refusals):
    response = client.post("/payment/webhook", **signed("payment_intent.succeeded", INTENT, secret="whsec_other"))

    assert response.status_code == 400
    assert refusals.messages == [
        "Stripe webhook refused: No signatures found matching the expected signature for payload. If every "
        "webhook is refused, STRIPE_WEBHOOK_SECRET is likely not the signing secret of this endpoint in "
        "Stripe's dashboard"
    ]
    assert WEBHOOK_SECRET not in refusals.text and "whsec_other" not in refusals.text


def test_a_request_without_a_signature_logs_that(client, refusals):
    request = signed("payment_intent.succeeded", INTENT)
    del request["headers"]["Stripe-Signature"]

    response = client.post("/payment/webhook", **request)

    assert response.status_code == 400
    assert refusals.messages == ["Stripe webhook refused: no Stripe-Signature header (not sent by Stripe)"]


def test_a_service_without_a_webhook_secret_logs_an_error(make_app, refusals):
    client = make_app(STRIPE_WEBHOOK_SECRET=None).test_client()

    response = client.post("/payment/webhook", **signed("payment_intent.succeeded", INTENT))

    assert response.status_code == 400
    assert [(record.levelname, record.getMessage()) for record in refusals.records] == [
        ("ERROR", "Stripe webhook refused: no STRIPE_WEBHOOK_SECRET is set (the endpoint's signing secret, whsec_...)")
    ]

