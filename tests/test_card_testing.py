"""Card testing is not free: 5 declined attempts per ticket, 10 per account, within an
hour; then 429 `too_many_attempts` before Stripe is asked, and the hold stays."""

import logging
from datetime import timedelta

from support import VISA, intents_for, pay, reserve, stored
from ticket_api.db import utcnow

DECLINED = "pm_card_chargeDeclined"
TOO_MANY = {"message": "Too many declined payment attempts: try again in an hour", "code": "too_many_attempts"}


def test_the_sixth_attempt_on_a_ticket_after_five_declines_is_429_and_the_hold_stays(
    client, buyer, held, stand_in, database
):
    statuses = [pay(client, buyer, held, token=DECLINED).status_code for _ in range(5)]

    sixth = pay(client, buyer, held, token=VISA)

    assert statuses == [402] * 5
    assert (sixth.status_code, sixth.json) == (429, TOO_MANY)
    [intent] = intents_for(stand_in, held)
    assert intent.status == "requires_payment_method"  # Stripe was not asked: the good card was never tried
    ticket = stored(database, held)
    assert ticket["status"] == "pending"
    assert "chargingSince" not in ticket  # the claim taken to count is given back
    assert ticket["lastPaymentError"] == "Your card was declined."


def test_ten_declines_by_one_account_stop_its_next_ticket_but_not_another_account(client, auth, events):
    event = events.create(capacity=50, price=1000)
    card_tester, other = auth.user_headers(), auth.user_headers()
    for _ in range(2):
        ticket = reserve(client, card_tester, event).json
        assert [pay(client, card_tester, ticket, token=DECLINED).status_code for _ in range(5)] == [402] * 5

    third = pay(client, card_tester, reserve(client, card_tester, event).json, token=VISA)

    assert (third.status_code, third.json) == (429, TOO_MANY)
    assert pay(client, other, reserve(client, other, event).json, token=VISA).status_code == 200


def test_declines_long_ago_do_not_count(client, buyer, held, database):
    for _ in range(5):
        pay(client, buyer, held, token=DECLINED)
    database.card_declines.update_many({}, {"$set": {"at": utcnow() - timedelta(minutes=61)}})

    assert pay(client, buyer, held, token=VISA).status_code == 200


def test_a_lost_card_is_answered_as_a_generic_decline_and_its_real_code_logged(client, buyer, held, caplog):
    with caplog.at_level(logging.WARNING):
        response = pay(client, buyer, held, token="pm_card_chargeDeclinedLostCard")

    assert response.json == {"message": "Your card was declined.", "code": "card_declined",
                              "declineCode": "generic_decline"}
    assert any("lost_card" in record.getMessage() for record in caplog.records)


def test_stripes_own_error_text_is_logged_not_returned(client, buyer, held, caplog):
    with caplog.at_level(logging.WARNING):
        response = pay(client, buyer, held, token="tok_doesNotExist")

    assert response.json == {"message": "Stripe refused the request", "code": "payment_refused"}
    assert any("tok_doesNotExist" in record.getMessage() for record in caplog.records)
