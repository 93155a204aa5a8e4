"""The `payments` collection: one record per PaymentIntent that took money (`_id` is its
id, so a payment is recorded once however often Stripe reports it), with its refund's claim."""


from pymongo.errors import DuplicateKeyError

from ..db import get_db


def record(intent_id, *, ticket, amount, currency, status, now):
    get_db().payments.update_one(
        {"_id": intent_id},
        {"$set": {"status": status, "updatedAt": now},
         "$setOnInsert": {"ticket": ticket["_id"], "user": ticket["user"], "amount": amount,
                          "currency": currency, "createdAt": now}},
        upsert=True,
    )


def claim_refund(intent_id, *, now, stale_after):
    """Claim the refund of this payment, once. :return: "new" (claimed first), "stale" (taken over
    from a dead process: ask Stripe first), "done" (made and recorded), or None (someone else's)."""
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
    get_db().payments.update_one({"_id": intent_id}, {"$set": {"status": "refunded", "updatedAt": now}})


