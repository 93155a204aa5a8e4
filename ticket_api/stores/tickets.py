"""The `tickets` collection; each status change is one conditional write (docs/design.md, "A ticket's status")."""

import secrets
from datetime import timedelta
from enum import StrEnum

from ..db import get_db
from ..errors import MAX_ATTEMPTS, KeptChanging

# Door codes: 27 characters from 29 without look-alikes (no 0/O, 1/I/L, U/V), 131 random
# bits, never derived from the ticket's `_id`. Unique by index.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
CODE_LENGTH = 27


class Status(StrEnum):
    PENDING = "pending"  # seats held until `expiresAt`, for a payment
    CONFIRMED = "confirmed"  # paid, free or sold at the box office: it admits at the door
    EXPIRED = "expired"  # the hold lapsed
    CANCELLED = "cancelled"  # given back unpaid (a hold, or no card paid), or its event cancelled
    REFUNDED = "refunded"  # its money went back


# Every change of a ticket's status there is (README, "A ticket's life"); `leaving` holds each
# write of this module to it.
TRANSITIONS = {
    Status.PENDING: {Status.CONFIRMED, Status.EXPIRED, Status.CANCELLED, Status.REFUNDED},
    Status.CONFIRMED: {Status.CANCELLED, Status.REFUNDED},
    Status.EXPIRED: {Status.CONFIRMED, Status.REFUNDED},
    Status.CANCELLED: {Status.REFUNDED},
    Status.REFUNDED: set(),
}
STATUSES = tuple(Status)
HOLDING = (Status.PENDING, Status.CONFIRMED)  # they hold seats
PAID = (Status.CONFIRMED, Status.REFUNDED)  # tickets whose money was taken (a refunded one's given back since)
# A hold is not released while a charge for it may still be running: longer than any Stripe
# call lasts (timeout x (retries + 1)), short enough that a crashed charge frees the seats.
CHARGE_GRACE = timedelta(minutes=2)
LAPSED_BATCH = 1000
WITH_EVENT = [
    {"$lookup": {"from": "events", "localField": "event", "foreignField": "_id", "as": "event"}},
    {"$unwind": "$event"},
]


def leaving(status, to):
    """`status`, for the filter of a write changing a ticket from it to `to`; :raise ValueError: no such change."""
    if to not in TRANSITIONS[status]:
        raise ValueError(f"a ticket never goes from {status} to {to}")
    return status


def new_code():
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def insert(ticket):
    stored = {**ticket, "code": new_code()}
    get_db().tickets.insert_one(stored)
    return stored


def without_code(limit):
    """Tickets stored before door codes existed (for `reconcile`)."""
    return list(get_db().tickets.find({"code": None}, {"_id": 1}).limit(limit))


def give_code(ticket_id):
    get_db().tickets.update_one({"_id": ticket_id, "code": None}, {"$set": {"code": new_code()}})


def exists(ticket_id):
    return get_db().tickets.find_one({"_id": ticket_id}, {"_id": 1}) is not None


def get(ticket_id):
    """The ticket as stored (its event as an id), or None."""
    return get_db().tickets.find_one({"_id": ticket_id})


def get_with_event(ticket_id):
    found = list(get_db().tickets.aggregate([{"$match": {"_id": ticket_id}}, *WITH_EVENT]))
    return found[0] if found else None


def get_by_code(code):
    return get_db().tickets.find_one({"code": code})


def check_in(ticket_id, *, by, scan_id, now):
    """confirmed, not in -> checked in by `by`'s scan `scan_id`. :return: whether this call did (one racer does)."""
    return get_db().tickets.update_one(
        admitting(ticket_id, now),
        {"$set": {"checkedInAt": now, "checkedInBy": by, "scanId": scan_id, "updatedAt": now}, "$inc": {"__v": 1}},
    ).modified_count == 1


def claim_give_back(ticket_id, *, now):
    """Claim a confirmed, unscanned ticket for its holder's give-back: no scan admits it until dropped
    or older than `CHARGE_GRACE` (docs/design.md, "Giving tickets back"). :return: whether claimed."""
    claimed = get_db().tickets.update_one(admitting(ticket_id, now), {"$set": {"givingBackSince": now}})
    return claimed.modified_count == 1


def drop_give_back(ticket_id):
    get_db().tickets.update_one({"_id": ticket_id}, {"$unset": {"givingBackSince": ""}})


def being_given_back(ticket, *, now):
    """Whether the ticket, as read, is claimed by its holder's give-back."""
    since = ticket.get("givingBackSince")
    return since is not None and since > now - CHARGE_GRACE


def admitting(ticket_id, now):
    """The filter of the ticket while a scan would admit it: confirmed, not in, no live give-back claim."""
    return {"_id": ticket_id, "status": Status.CONFIRMED, "checkedInAt": None,
            "givingBackSince": {"$not": {"$gt": now - CHARGE_GRACE}}}


def seats_at_the_door(event_id):
    pipeline = [
        {"$match": {"event": event_id, "status": Status.CONFIRMED}},
        {"$group": {"_id": None, "expected": {"$sum": "$quantity"},
                    "admitted": {"$sum": {"$cond": [{"$gt": ["$checkedInAt", None]}, "$quantity", 0]}}}},
    ]
    counted = next(get_db().tickets.aggregate(pipeline), {"expected": 0, "admitted": 0})
    return {"expected": counted["expected"], "admitted": counted["admitted"]}


def get_by_intent(intent_id):
    return get_db().tickets.find_one({"paymentIntent": intent_id})


def list_for_user(user_id, *, page=None, limit=None):
    """The user's tickets with their events, newest first: all, or page `page` (1-based) of `limit`."""
    paging = [] if page is None else [{"$skip": (page - 1) * limit}, {"$limit": limit}]
    pipeline = [{"$match": {"user": user_id}}, {"$sort": {"createdAt": -1, "_id": -1}}, *paging, *WITH_EVENT]
    return list(get_db().tickets.aggregate(pipeline))


def count_for_user(user_id):
    return get_db().tickets.count_documents({"user": user_id})


def list_page(*, page, limit):
    tickets = get_db().tickets
    pipeline = [
        {"$sort": {"createdAt": -1, "_id": -1}},
        {"$skip": (page - 1) * limit},
        {"$limit": limit},
        *WITH_EVENT,
    ]
    return list(tickets.aggregate(pipeline)), tickets.count_documents({})


def list_for_event(event, *, status=None, page=None, limit=None):
    """The event's tickets (of one status, or all), newest first, each with `event` and `holder`: its
    user's account, a walk-in's stored holder, or none (user deleted). Paged as `list_for_user`."""
    paging = [] if page is None else [{"$skip": (page - 1) * limit}, {"$limit": limit}]
    pipeline = [
        {"$match": of_event(event["_id"], status)},
        {"$sort": {"createdAt": -1, "_id": -1}},
        *paging,
        {"$lookup": {"from": "users", "localField": "user", "foreignField": "_id", "as": "account",
                     "pipeline": [{"$project": {"username": 1, "email": 1}}]}},
        {"$set": {"holder": {"$ifNull": [{"$first": "$account"}, "$holder"]}}},
        {"$unset": "account"},
    ]
    return [{**ticket, "event": event} for ticket in get_db().tickets.aggregate(pipeline)]


def count_for_event(event_id, *, status=None):
    return get_db().tickets.count_documents(of_event(event_id, status))


def of_event(event_id, status):
    """The filter of an event's tickets: exactly an index's fields (docs/design.md, "Query shapes")."""
    return {"event": event_id} if status is None else {"event": event_id, "status": status}


def summary(event):
    """The event's seats, tickets per status and money (`EventSummarySchema` says each), in one aggregation."""
    pipeline = [
        {"$match": {"event": event["_id"]}},
        {"$group": {
            "_id": "$status",
            "tickets": {"$sum": 1},
            "seats": {"$sum": "$quantity"},
            "amount": {"$sum": "$amount"},
            "refundedAmount": {"$sum": "$refundedAmount"},
            "checkedIn": {"$sum": {"$cond": [{"$ifNull": ["$checkedInAt", False]}, "$quantity", 0]}},
        }},
    ]
    empty = {"tickets": 0, "seats": 0, "amount": 0, "refundedAmount": 0, "checkedIn": 0}
    by_status = {status: empty for status in STATUSES}
    by_status.update({row["_id"]: row for row in get_db().tickets.aggregate(pipeline)})
    held, sold = by_status[Status.PENDING]["seats"], by_status[Status.CONFIRMED]["seats"]
    gross = sum(by_status[status]["amount"] for status in PAID)
    refunded = by_status[Status.REFUNDED]["amount"] + by_status[Status.CONFIRMED]["refundedAmount"]
    return {
        "capacity": event["capacity"],
        "held": held,
        "sold": sold,
        "available": max(event["capacity"] - held - sold, 0),
        "checkedIn": sum(totals["checkedIn"] for totals in by_status.values()),
        "tickets": {status: by_status[status]["tickets"] for status in STATUSES},
        "revenue": {"currency": event["currency"], "gross": gross, "refunded": refunded, "net": gross - refunded},
    }


def holding_for_event(event_id):
    return list(get_db().tickets.find(holding_of(event_id)))


def count_holding_for_event(event_id):
    return get_db().tickets.count_documents(holding_of(event_id))


def holding_of(event_id):
    return {"event": event_id, "status": {"$in": list(HOLDING)}}


def not_charging(now):
    """No charge in flight, or one too old to be running (`$not` also matches a missing field)."""
    return {"chargingSince": {"$not": {"$gt": now - CHARGE_GRACE}}}


def lapsed_holds(*, now, event_id=None):
    """Pending tickets whose hold lapsed (of one event, or of all), a batch at a time."""
    lapsed = {"status": Status.PENDING, "expiresAt": {"$lte": now}}  # exactly an index's fields (query shapes)
    if event_id is not None:
        lapsed = {"event": event_id, **lapsed}
    projection = {"event": 1, "user": 1, "quantity": 1, "paymentIntent": 1}
    return list(get_db().tickets.find(lapsed, projection).limit(LAPSED_BATCH))


def expire(ticket, *, now):
    """pending -> expired, if unchanged and not being charged; its PaymentIntent is recorded to
    cancel in the same write (`unsettledIntent`). :return: whether this call expired it."""
    return end_hold(ticket, Status.EXPIRED, now=now)


def cancel_hold(ticket, *, now):
    """pending -> cancelled, given up by its owner (or staff), as `expire` does it."""
    return end_hold(ticket, Status.CANCELLED, now=now)


def end_hold(ticket, status, *, now):
    intent = {"unsettledIntent": ticket["paymentIntent"]} if ticket.get("paymentIntent") else {}
    return get_db().tickets.update_one(
        {"_id": ticket["_id"], "status": leaving(Status.PENDING, status), "paymentIntent": ticket.get("paymentIntent"),
         **not_charging(now)},
        {"$set": {"status": status, "updatedAt": now, **intent}, "$inc": {"__v": 1}},
    ).modified_count == 1


def cancel_unpaid(ticket_id, *, now, unless_checked_in=False):
    """confirmed -> cancelled, for a ticket no card paid for; `unless_checked_in`: only if not
    scanned. :return: whether this call cancelled it."""
    not_in = {"checkedInAt": None} if unless_checked_in else {}
    return get_db().tickets.update_one(
        {"_id": ticket_id, "status": leaving(Status.CONFIRMED, Status.CANCELLED), "paymentIntent": None, **not_in},
        {"$set": {"status": Status.CANCELLED, "updatedAt": now}, "$inc": {"__v": 1}},
    ).modified_count == 1


def unsettled_intents(limit=0):
    """Released holds whose PaymentIntent is still to cancel (`limit` 0: all)."""
    found = get_db().tickets.find({"unsettledIntent": {"$gt": ""}}, {"unsettledIntent": 1})
    return list(found.limit(limit))


def charges_left(*, now):
    """Pending tickets whose charge was marked started over `CHARGE_GRACE` ago: its request died."""
    left = {"status": Status.PENDING, "chargingSince": {"$lte": now - CHARGE_GRACE}}  # exactly an index's fields
    return list(get_db().tickets.find(left, {"paymentIntent": 1}))


def intent_settled(ticket_id, intent_id):
    get_db().tickets.update_one({"_id": ticket_id, "unsettledIntent": intent_id}, {"$unset": {"unsettledIntent": ""}})


def claim_stripe_check(ticket_id, *, now, every):
    """Whether this request may ask Stripe about the ticket's payment: at most once `every` per ticket."""
    return get_db().tickets.update_one(
        {"_id": ticket_id, "stripeCheckedAt": {"$not": {"$gt": now - every}}}, {"$set": {"stripeCheckedAt": now}}
    ).modified_count == 1


def next_lapse():
    """When the earliest pending hold lapses (None when none is pending)."""
    ticket = get_db().tickets.find_one({"status": Status.PENDING}, {"expiresAt": 1}, sort=[("expiresAt", 1)])
    return ticket["expiresAt"] if ticket else None


def claim_for_charge(ticket_id, user_id, amount, *, now):
    """Claim a charge of `amount` on the user's pending, unexpired ticket, if none is running
    (docs/design.md, "Charges and holds"). :return: the claimed ticket, or None."""
    claimed = get_db().tickets.update_one(
        {"_id": ticket_id, "user": user_id, "amount": amount, "status": Status.PENDING, "expiresAt": {"$gt": now},
         **not_charging(now)},
        {"$set": {"chargingSince": now, "updatedAt": now}, "$inc": {"paymentAttempt": 1, "__v": 1}},
    ).modified_count
    return get(ticket_id) if claimed else None


def end_charge(ticket_id, *, now, error=None):
    """The charge is over without confirming the ticket (declined, needs the browser, failed)."""
    get_db().tickets.update_one(
        {"_id": ticket_id},
        {"$unset": {"chargingSince": ""}, "$inc": {"__v": 1}, "$set": {"lastPaymentError": error, "updatedAt": now}},
    )


def drop_charge_claim(ticket_id, *, now):
    """The charge claimed is not made after all."""
    get_db().tickets.update_one(
        {"_id": ticket_id}, {"$unset": {"chargingSince": ""}, "$inc": {"__v": 1}, "$set": {"updatedAt": now}}
    )


def set_intent(ticket_id, intent_id, *, now):
    get_db().tickets.update_one(
        {"_id": ticket_id}, {"$set": {"paymentIntent": intent_id, "updatedAt": now}, "$inc": {"__v": 1}}
    )


def confirm_paid(ticket_id, intent_id, *, now, from_status=Status.PENDING):
    """`from_status` -> confirmed, for this payment only. :return: whether this call confirmed it."""
    return get_db().tickets.update_one(
        {"_id": ticket_id, "status": leaving(from_status, Status.CONFIRMED),
         "paymentIntent": {"$in": [None, intent_id]}},
        {"$set": {"status": Status.CONFIRMED, "paidWith": "card", "paymentIntent": intent_id, "expiresAt": None,
                  "lastPaymentError": None, "updatedAt": now},
         "$unset": {"chargingSince": ""}, "$inc": {"__v": 1}},
    ).modified_count == 1


def mark_refunded(ticket_id, *, now, statuses):
    """Any of `statuses` -> refunded, only if unchanged since read.
    :return: the ticket as it was before (its status says whether it held seats), or None."""
    for _ in range(MAX_ATTEMPTS):
        ticket = get(ticket_id)
        if ticket is None or ticket["status"] not in statuses:
            return None
        changed = get_db().tickets.update_one(  # only if unchanged since read: then its status is the one to undo
            {"_id": ticket_id, "status": leaving(ticket["status"], Status.REFUNDED), "__v": ticket["__v"]},
            {"$set": {"status": Status.REFUNDED, "updatedAt": now}, "$unset": {"chargingSince": ""},
             "$inc": {"__v": 1}},
        ).modified_count
        if changed:
            return ticket
    raise KeptChanging(f"ticket {ticket_id}: not marked refunded after {MAX_ATTEMPTS} attempts")


def record_refunded_amount(ticket_id, amount, *, now):
    """What Stripe says was refunded of the ticket's payment; never lowered (reports come out of order)."""
    get_db().tickets.update_one(
        {"_id": ticket_id, "refundedAmount": {"$not": {"$gte": amount}}},
        {"$set": {"refundedAmount": amount, "updatedAt": now}, "$inc": {"__v": 1}},
    )


def seats_held_by_event():
    """{event id: seats its pending and confirmed tickets hold}."""
    pipeline = [
        {"$match": {"status": {"$in": list(HOLDING)}}},
        {"$group": {"_id": "$event", "seats": {"$sum": "$quantity"}}},
    ]
    return {row["_id"]: row["seats"] for row in get_db().tickets.aggregate(pipeline)}


def seats_held_by_user():
    """{(event id, user id): seats their pending and confirmed tickets hold}."""
    pipeline = [
        {"$match": {"status": {"$in": list(HOLDING)}}},
        {"$group": {"_id": {"event": "$event", "user": "$user"}, "seats": {"$sum": "$quantity"}}},
    ]
    return {(row["_id"]["event"], row["_id"]["user"]): row["seats"] for row in get_db().tickets.aggregate(pipeline)}


