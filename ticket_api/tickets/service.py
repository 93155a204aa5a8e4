"""The `tickets` collection: the only code that reads or writes it.

A ticket holds its seats from the moment they are taken. A pending ticket whose hold
has lapsed is released lazily, by whoever reads availability or takes seats next: a
conditional update that exactly one process wins gives its seats back once.
"""

from datetime import timedelta

from bson import ObjectId
from pymongo.errors import PyMongoError

from ..auth import service as users
from ..db import get_db, utcnow
from ..errors import ApiError
from ..events import service as events
from ..payments import service as payments
from ..security import UserGone

HOLDING = ("pending", "confirmed")
# A hold is not released while a charge for it may still be running: longer than any Stripe
# call lasts (timeout x (retries + 1)), short enough that a crashed charge frees the seats.
CHARGE_GRACE = timedelta(minutes=2)
WITH_EVENT = [
    {"$lookup": {"from": "events", "localField": "event", "foreignField": "_id", "as": "event"}},
    {"$unwind": "$event"},
]


class EventNotFound(ApiError):
    status_code, message = 404, "Event not found"


class EventStarted(ApiError):
    status_code, message = 400, "Event already started"


class SoldOut(ApiError):
    status_code, message = 409, "Sold out"


def reserve(*, event_id, user_id, quantity, hold_minutes, now):
    """Hold `quantity` seats for the user: confirmed at once when free, else pending.

    The user is read only once the seats are won: during a rush most buyers are told
    "sold out", and that answer should cost the database as little as possible.

    :raise EventNotFound, EventStarted, SoldOut: why the seats could not be taken.
    :raise UserGone: the token outlived its user.
    """
    event = take_seats(event_id, quantity, now)
    if users.get(user_id) is None:
        events.give_back_seats(event_id, quantity)
        raise UserGone()
    free = event["price"] == 0
    ticket = {
        "_id": ObjectId(),
        "event": event_id,
        "user": user_id,
        "quantity": quantity,
        "amount": event["price"] * quantity,
        "currency": event["currency"],
        "status": "confirmed" if free else "pending",
        "expiresAt": None if free else now + timedelta(minutes=hold_minutes),
        "createdAt": now,
        "updatedAt": now,
        "__v": 0,
    }
    try:
        get_db().tickets.insert_one(ticket)
    except PyMongoError:
        if not might_be_stored(ticket["_id"]):
            events.give_back_seats(event_id, quantity)
        raise
    return {**ticket, "event": event}


def take_seats(event_id, quantity, now):
    """Take the seats, or say why not. When too few are left, the event's lapsed holds
    are released first, if it has any: the scan for them is spared while seats are
    plentiful, and never skipped when it matters.

    Database round trips: a read and an update (and the version bump) when seats are
    free; a read and the scan for "sold out". The update re-checks the rule, so when the
    event changed since it was read, it is read again.

    :return: the event with the seats taken.
    :raise EventNotFound, EventStarted, SoldOut: why they could not be.
    """
    while True:
        event = events.get(event_id)
        if event is None:
            raise EventNotFound()
        if event["date"] <= now:
            raise EventStarted()
        short = event["capacity"] - event["seatsTaken"] < quantity
        if short and not release_expired(now, event_id=event_id):
            raise SoldOut()
        if not short and (taken := events.take_seats(event, quantity, now)) is not None:
            return taken


def might_be_stored(ticket_id):
    """After a failed insert: could the ticket be in the database all the same?

    A connection lost after the write leaves it stored. Seats are given back only when
    it surely is not: a seat kept too long is repaired by `reconcile`, a seat given back
    twice could be sold twice.
    """
    try:
        return get_db().tickets.find_one({"_id": ticket_id}, {"_id": 1}) is not None
    except PyMongoError:
        return True


def not_charging(now):
    """No charge in flight, or one started so long ago that it cannot be running any more.

    (`$not` matches a missing `chargingSince` too; an `$or` would do the same, but
    SecantusDB answers a filter with a top-level `$or` by scanning the collection.)
    """
    return {"chargingSince": {"$not": {"$gt": now - CHARGE_GRACE}}}


def release_expired(now, event_id=None):
    """Expire the lapsed holds (of one event, or all) and give their seats back, once each.

    A released hold's unfinished PaymentIntent is cancelled, so a late confirmation in
    the browser cannot charge for seats that are gone.

    :return: how many holds this process released.
    """
    lapsed = {"status": "pending", "expiresAt": {"$lte": now}}  # exactly an index's fields
    if event_id is not None:
        lapsed = {"event": event_id, **lapsed}
    tickets = get_db().tickets
    released = 0
    for ticket in tickets.find(lapsed, {"event": 1, "quantity": 1, "paymentIntent": 1}).limit(1000):
        won = tickets.update_one(  # as found, and not being charged: this process releases it
            {"_id": ticket["_id"], "status": "pending", "paymentIntent": ticket.get("paymentIntent"),
             **not_charging(now)},
            {"$set": {"status": "expired", "updatedAt": now}, "$inc": {"__v": 1}},
        ).modified_count
        if won:
            released += 1
            events.give_back_seats(ticket["event"], ticket["quantity"])
            if ticket.get("paymentIntent"):
                payments.cancel_unfinished(ticket)
    return released


def next_lapse():
    """When the earliest pending hold lapses (None when none is pending)."""
    ticket = get_db().tickets.find_one({"status": "pending"}, {"expiresAt": 1}, sort=[("expiresAt", 1)])
    return ticket["expiresAt"] if ticket else None


def find(ticket_id):
    """The ticket as stored (its event as an id), or None."""
    return get_db().tickets.find_one({"_id": ticket_id})


def claim_for_charge(ticket_id, user_id, amount, now):
    """Mark a charge of `amount` as started on the user's pending, unexpired ticket of that
    amount, if none is running.

    Only one request can hold the claim; while it does, the hold cannot lapse. The update
    alone decides who holds it; the ticket is then read by `_id` (not one
    `find_one_and_update`: SecantusDB answers that by scanning the whole collection).
    :return: the ticket with the claim, or None (the caller reads the ticket to say why).
    """
    claimed = get_db().tickets.update_one(
        {"_id": ticket_id, "user": user_id, "amount": amount, "status": "pending", "expiresAt": {"$gt": now},
         **not_charging(now)},
        {"$set": {"chargingSince": now, "updatedAt": now}, "$inc": {"paymentAttempt": 1, "__v": 1}},
    ).modified_count
    return find(ticket_id) if claimed else None


def end_charge(ticket_id, *, error=None):
    """The charge is over without confirming the ticket (declined, needs the browser, failed)."""
    get_db().tickets.update_one(
        {"_id": ticket_id},
        {"$unset": {"chargingSince": ""}, "$inc": {"__v": 1},
         "$set": {"lastPaymentError": error, "updatedAt": utcnow()}},
    )


def find_by_intent(intent_id):
    return get_db().tickets.find_one({"paymentIntent": intent_id})


def set_intent(ticket_id, intent_id):
    get_db().tickets.update_one(
        {"_id": ticket_id}, {"$set": {"paymentIntent": intent_id, "updatedAt": utcnow()}, "$inc": {"__v": 1}}
    )


def confirm_paid(ticket_id, intent_id, now, from_status="pending"):
    """pending (or expired, after seats were re-taken) -> confirmed, for this payment only.

    :return: whether this call confirmed it (False: it was no longer in `from_status`).
    """
    return get_db().tickets.update_one(
        {"_id": ticket_id, "status": from_status, "paymentIntent": {"$in": [None, intent_id]}},
        {"$set": {"status": "confirmed", "paymentIntent": intent_id, "expiresAt": None,
                  "lastPaymentError": None, "updatedAt": now},
         "$unset": {"chargingSince": ""}, "$inc": {"__v": 1}},
    ).modified_count == 1


def retake_seats(ticket, intent_id, now):
    """Money arrived for a lapsed hold: take its seats again if they are still free.

    :return: whether it is confirmed (not: seats gone, event started, or changed meanwhile).
    """
    try:
        take_seats(ticket["event"], ticket["quantity"], now)
    except (EventNotFound, EventStarted, SoldOut):
        return False
    confirmed = confirm_paid(ticket["_id"], intent_id, now, from_status="expired")
    if not confirmed:
        events.give_back_seats(ticket["event"], ticket["quantity"])
    return confirmed


def mark_refunded(ticket_id, now, statuses=("expired", "cancelled")):
    """The ticket's money went back: `refunded`; a ticket that held seats gives them back.

    :return: the ticket as it was before, or None when it was in none of `statuses`.
    """
    tickets = get_db().tickets
    while (ticket := find(ticket_id)) is not None and ticket["status"] in statuses:
        changed = tickets.update_one(  # only if unchanged since read: then its status is the one to undo
            {"_id": ticket_id, "__v": ticket["__v"]},
            {"$set": {"status": "refunded", "updatedAt": now}, "$unset": {"chargingSince": ""},
             "$inc": {"__v": 1}},
        ).modified_count
        if changed:
            if ticket["status"] in HOLDING:
                events.give_back_seats(ticket["event"], ticket["quantity"])
            return ticket
    return None


def get(ticket_id):
    """The ticket with its event, or None."""
    found = list(get_db().tickets.aggregate([{"$match": {"_id": ticket_id}}, *WITH_EVENT]))
    return found[0] if found else None


def list_for_user(user_id):
    """The user's tickets, newest first, each with its event, in one aggregation."""
    pipeline = [{"$match": {"user": user_id}}, {"$sort": {"createdAt": -1, "_id": -1}}, *WITH_EVENT]
    return list(get_db().tickets.aggregate(pipeline))


def list_page(*, page, limit):
    """One page of all tickets, newest first, each with its event, and the total."""
    tickets = get_db().tickets
    pipeline = [
        {"$sort": {"createdAt": -1, "_id": -1}},
        {"$skip": (page - 1) * limit},
        {"$limit": limit},
        *WITH_EVENT,
    ]
    return list(tickets.aggregate(pipeline)), tickets.count_documents({})
