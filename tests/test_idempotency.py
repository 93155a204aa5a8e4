"""`Idempotency-Key` on `POST /payment`: a retried request replays the first reply and
never charges twice."""

import hashlib
import json
from datetime import UTC, datetime

from support import VISA, intents_for, pay


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
    assert response.json == {"message": "This Idempotency-Key was used for a different request",
                             "code": "idempotency_key_reused"}


def test_idempotency_keys_belong_to_their_user(client, auth, held, buyer):
    pay(client, {**buyer, "Idempotency-Key": "shared"}, held)

    other = pay(client, {**auth.user_headers(), "Idempotency-Key": "shared"}, held)

    assert other.status_code == 404


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
    assert response.json == {"message": "A request with this Idempotency-Key is still running",
                             "code": "idempotency_key_in_use"}
