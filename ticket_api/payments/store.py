"""The `payments`, `card_declines`, `stripe_events` and `idempotency_keys` collections: the
only code that reads or writes them.

`payments` holds one record per PaymentIntent that took money (`_id` is its id, so a
payment is recorded once however often Stripe reports it), with its refund's claim.
`card_declines` holds each declined attempt (ticket, user, time), counted against card
testing. `stripe_events` holds the ids of webhook events already handled. `idempotency_keys`
holds each (user, `Idempotency-Key`) and the reply kept for it.
"""

from contextlib import suppress

from pymongo.errors import DuplicateKeyError

from ..db import get_db
from ..errors import MAX_ATTEMPTS, KeptChanging


def record(intent_id, *, ticket, amount, currency, status, now):
    get_db().payments.update_one(
        {"_id": intent_id},
        {"$set": {"status": status, "updatedAt": now},
         "$setOnInsert": {"ticket": ticket["_id"], "user": ticket["user"], "amount": amount,
                          "currency": currency, "createdAt": now}},
        upsert=True,
    )


def claim_refund(intent_id, *, now, stale_after):
    """Claim the refund of this payment, once.

    :return: "new" when this call claimed it first; "stale" when it took over a claim made
        `stale_after` ago or more by a process that never finished (the refund may have been
        made at Stripe: ask first); "done" when the refund was made and recorded (what came
        after it, the ticket's status, may not have been); None when someone else holds it.
    """
    payments = get_db().payments
    try:
        payments.update_one({"_id": intent_id, "refund": None},
                            {"$set": {"refund": "started", "refundClaimedAt": now}}, upsert=True)
        return "new"
    except DuplicateKeyError:  # the upsert met a claimed record
        pass
    taken_over = payments.update_one(
        {"_id": intent_id, "refund": "started", "refundClaimedAt": {"$not": {"$gt": now - stale_after}}},
        {"$set": {"refundClaimedAt": now}},
    ).modified_count
    if taken_over:
        return "stale"
    return "done" if payments.find_one({"_id": intent_id, "refund": "done"}, {"_id": 1}) else None


def refunds_left(*, now, stale_after):
    """Payments whose refund was claimed `stale_after` ago or more and never finished."""
    left = {"refund": "started", "refundClaimedAt": {"$not": {"$gt": now - stale_after}}}
    return [payment["_id"] for payment in get_db().payments.find(left, {"_id": 1})]


def drop_refund_claim(intent_id):
    """The refund failed before Stripe made it: let the next caller try again."""
    get_db().payments.update_one({"_id": intent_id}, {"$unset": {"refund": ""}})


def refund_done(intent_id, *, ticket_id, amount, currency, now):
    get_db().payments.update_one(
        {"_id": intent_id},
        {"$set": {"refund": "done", "status": "refunded", "amount": amount, "currency": currency,
                  "ticket": ticket_id, "updatedAt": now}},
    )


def mark_refunded_outside(intent_id, *, now):
    """A refund made outside (in Stripe's dashboard)."""
    get_db().payments.update_one({"_id": intent_id}, {"$set": {"status": "refunded", "updatedAt": now}})


def record_decline(*, ticket_id, user_id, now):
    get_db().card_declines.insert_one({"ticket": ticket_id, "user": user_id, "at": now})


def declines_since(since, *, ticket_id):
    return get_db().card_declines.count_documents({"ticket": ticket_id, "at": {"$gt": since}})


def declines_of_user_since(since, *, user_id):
    return get_db().card_declines.count_documents({"user": user_id, "at": {"$gt": since}})


def event_handled(event_id):
    return get_db().stripe_events.find_one({"_id": event_id}, {"_id": 1}) is not None


def mark_event_handled(event_id, event_type, *, now):
    """Remember a webhook event as handled (delivered twice at once: handled twice, harmlessly)."""
    with suppress(DuplicateKeyError):
        get_db().stripe_events.insert_one({"_id": event_id, "type": event_type, "handledAt": now})


def claim_key(key_id, fingerprint, *, now, keep_for):
    """Claim an idempotency key for a request, dropping a claim older than `keep_for`.

    :return: None when this call claimed it, else the stored record (maybe still running:
        it then has no `status`).
    """
    keys = get_db().idempotency_keys
    keys.delete_one({"_id": key_id, "createdAt": {"$lte": now - keep_for}})
    for _ in range(MAX_ATTEMPTS):  # a stored record is deleted when its request fails: then claim it anew
        try:
            keys.insert_one({"_id": key_id, "fingerprint": fingerprint, "createdAt": now})
            return None
        except DuplicateKeyError:
            stored = keys.find_one({"_id": key_id})
        if stored is not None:
            return stored
    raise KeptChanging(f"idempotency key {key_id}: claimed and dropped {MAX_ATTEMPTS} times in a row")


def keep_reply(key_id, status, body):
    get_db().idempotency_keys.update_one({"_id": key_id}, {"$set": {"status": status, "body": body}})


def drop_key(key_id):
    get_db().idempotency_keys.delete_one({"_id": key_id})
