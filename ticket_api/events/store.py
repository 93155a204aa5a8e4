"""The `events` collection: the only code that reads or writes it.

Seats are counted in `seatsTaken` and only ever moved by atomic `$inc`s whose filters
re-check the rule, so no interleaving of processes can sell a seat twice. An edit and a
cancellation are conditional updates too, whose filters re-check what they were decided
on: a capacity never falls below the seats taken, a cancelled event takes no more seats.

Every write to an event increments its `__v`, and events are never deleted, so the events'
count and the sum of their `__v`s change whenever any event does: the `version` that lets
each worker cache the event list (`listing.py`) when it has no current copy. Each worker
also keeps a copy of the events, current within a second (`changes.py`): `recent` and
`version` read it, and fall back to the database while it is not known to be current. A
write by this worker puts the event as stored into its copy at once
(`find_one_and_update`), so that this worker never answers from an event older than its
own write; except a seat taken (the hot path, one `update_one`), which only makes the
copy look freer than the event is (the next seat update's filter finds out) and changes
the copy's generation, so pages are built again.
"""

import logging

from pymongo import ReturnDocument

from ..changes import Mirror, copied_or_read, mirror, own_write
from ..db import get_db
from ..errors import INVALID_DATA, MAX_ATTEMPTS, ApiError, KeptChanging

log = logging.getLogger(__name__)

DEFAULT_MAX_PER_USER = 10  # events made before `maxPerUser` existed have none stored
SCHEDULED, CANCELLED = "scheduled", "cancelled"  # events made before `status` existed have none stored
NOT_CANCELLED = {"status": {"$ne": CANCELLED}}  # matches a missing status too (not an `$or`: `db.py`)


class EventCancelled(ApiError):
    status_code, message, code = 409, "This event is cancelled", "event_cancelled"


class CapacityBelowSold(ApiError):
    status_code, code = 409, "capacity_below_sold"

    def __init__(self, seats_taken):
        super().__init__(f"The capacity cannot be less than the {seats_taken} seats already held and sold")


class RefundDeadlineAfterDate(ApiError):
    """The edit would leave the refund deadline after the event's date: a 400 shaped as
    the schema's own validation errors (the date compared with may be the stored one)."""

    status_code, message, code = 400, INVALID_DATA, "invalid_data"
    REASON = "Must not be after the event's date."

    def body(self):
        return {**super().body(), "errors": {"json": {"refundDeadline": [self.REASON]}}}


def new_mirror():
    """A worker's copy of the events (`changes.init_app`)."""
    return Mirror("events")


def mirrored():
    return mirror("events")


def recent(event_id):
    """The event as this worker's copy has it (at most `changes.FRESH_FOR` old), or as
    stored when there is no current copy or it has no such event."""
    return copied_or_read("events", event_id, get)


def stored(event):
    """`event`, as a write of this worker just left it, into this worker's copy."""
    if event is not None:
        own_write("events", event)
    return event


def max_per_user(event):
    return event.get("maxPerUser", DEFAULT_MAX_PER_USER)


def status_of(event):
    return event.get("status", SCHEDULED)


def create(*, default_currency, now, **fields):
    event = {
        "currency": default_currency,
        "image": None,
        "refundDeadline": None,
        **fields,
        "status": SCHEDULED,
        "seatsTaken": 0,
        "createdAt": now,
        "updatedAt": now,
        "__v": 0,
    }
    get_db().events.insert_one(event)
    return stored(event)


def get(event_id):
    return get_db().events.find_one({"_id": event_id})


def edit(event_id, changes, *, now, approve=None):
    """Apply `changes` (any fields of a new event) to the event, in one conditional update
    whose filter re-checks, on the stored event, what the edit was decided on: not
    cancelled; for a new capacity, no more seats taken than it (so buyers racing the edit
    can never leave more seats sold than there are); for a new date or refund deadline,
    the date and deadline read. When the event changed in between, it is read again (a
    bounded number of times). The price and currency change for holds made from now on:
    a ticket keeps the amount it was made with.

    :param approve: called with the event as read, each time: it raises to refuse (an
        `If-Match` that is stale). When given, the update also requires the event
        unchanged since (same `__v`), so what it approved is what is changed.
    :return: the event as stored after the edit, or None when there is no such event.
    :raise EventCancelled, CapacityBelowSold, RefundDeadlineAfterDate: why not.
    """
    for _ in range(MAX_ATTEMPTS):
        event = get(event_id)
        if event is None:
            return None
        if approve is not None:
            approve(event)
        if status_of(event) == CANCELLED:
            raise EventCancelled()
        if "capacity" in changes and event["seatsTaken"] > changes["capacity"]:
            raise CapacityBelowSold(event["seatsTaken"])
        edited = {**event, **changes}
        if edited.get("refundDeadline") is not None and edited["refundDeadline"] > edited["date"]:
            raise RefundDeadlineAfterDate()
        unchanged = {**NOT_CANCELLED}
        if "capacity" in changes:
            unchanged["seatsTaken"] = {"$lte": changes["capacity"]}
        if "date" in changes or "refundDeadline" in changes:
            unchanged.update(date=event["date"], refundDeadline=event.get("refundDeadline"))
        if approve is not None:
            unchanged["__v"] = event["__v"]
        done = get_db().events.find_one_and_update(
            {"_id": event_id, **unchanged}, {"$set": {**changes, "updatedAt": now}, "$inc": {"__v": 1}},
            return_document=ReturnDocument.AFTER)
        if done is not None:
            return stored(done)
    raise KeptChanging(f"event {event_id}: not edited after {MAX_ATTEMPTS} attempts")


def mark_cancelled(event_id, *, now, reason=None):
    """scheduled -> cancelled, once: it takes no more seats from then on (`take_seats`).
    When and why are kept (`cancelledAt`, `cancelReason`).

    :return: whether this call cancelled it (exactly one of any number of callers does;
        False also when there is no such event).
    """
    return stored(get_db().events.find_one_and_update(
        {"_id": event_id, **NOT_CANCELLED},
        {"$set": {"status": CANCELLED, "cancelledAt": now, "cancelReason": reason, "updatedAt": now},
         "$inc": {"__v": 1}},
        return_document=ReturnDocument.AFTER,
    )) is not None


def list_page(*, upcoming, page, limit, now):
    """One page of events by date, and how many there are in all."""
    query = {"date": {"$gte": now}} if upcoming else {}
    events = get_db().events
    cursor = events.find(query).sort([("date", 1), ("_id", 1)]).skip((page - 1) * limit).limit(limit)
    return list(cursor), events.count_documents(query)


def take_seats(event, quantity, *, now, after_start=False):
    """Take `quantity` seats of `event` (as just read), in one atomic conditional update.

    Its filter re-checks the rule on the stored event: it matches only while the event
    is not cancelled, has not started, has the capacity read, and has `quantity` seats
    left, so no interleaving of processes can sell a seat twice, or sell one of a
    cancelled event. (Not an `$expr` comparing the two fields: query shapes, `db.py`.)
    It also matches only while the price and currency are those read, so a ticket's
    amount is always the price at the moment its seats were taken. `after_start`: the box
    office, which sells at the door while the show is on, is not held to the start.

    :return: the event as read, with the seats taken; None when the filter no longer
        matched (the event changed since it was read).
    """
    capacity = event["capacity"]
    not_started = {} if after_start else {"date": {"$gt": now}}
    taken = get_db().events.update_one(
        {"_id": event["_id"], **NOT_CANCELLED, **not_started, "capacity": capacity,
         "seatsTaken": {"$lte": capacity - quantity}, "price": event["price"], "currency": event["currency"]},
        {"$inc": {"seatsTaken": quantity, "__v": 1}, "$set": {"updatedAt": now}},
    ).modified_count
    if not taken:
        return None
    own_write("events")
    return {**event, "seatsTaken": event["seatsTaken"] + quantity, "__v": event["__v"] + 1, "updatedAt": now}


def give_back_seats(event_id, quantity, *, now):
    """Return seats to an event; never below zero (a counter that would go there has
    drifted, which `flask reconcile` reports and repairs)."""
    given_back = stored(get_db().events.find_one_and_update(
        {"_id": event_id, "seatsTaken": {"$gte": quantity}},
        {"$inc": {"seatsTaken": -quantity, "__v": 1}, "$set": {"updatedAt": now}},
        return_document=ReturnDocument.AFTER,
    ))
    if given_back is None:
        log.warning("event %s: %d seats to give back but fewer are counted", event_id, quantity)


def seat_counters():
    """Every event's name, seat counter and version (`__v`), for `reconcile`."""
    return list(get_db().events.find({}, {"name": 1, "seatsTaken": 1, "__v": 1}))


def correct_seats(event, seats, *, now):
    """Set the counter of `event` (as read by `seat_counters`) to `seats`, only if the
    event is unchanged since it was read. :return: whether it was corrected."""
    return stored(get_db().events.find_one_and_update(
        {"_id": event["_id"], "__v": event["__v"]},
        {"$inc": {"seatsTaken": seats - event["seatsTaken"], "__v": 1}, "$set": {"updatedAt": now}},
        return_document=ReturnDocument.AFTER,
    )) is not None


def version():
    """A version of the events, as this worker knows them: it changes whenever any event
    does. The generation of this worker's copy when it is current; else one read of the
    database, `"<count>.<sum of __v>"`."""
    copy = mirrored()
    if copy is not None:
        return f"copy-{copy.generation}"
    totals = list(get_db().events.aggregate([{"$group": {"_id": None, "count": {"$sum": 1}, "v": {"$sum": "$__v"}}}]))
    return f"{totals[0]['count']}.{totals[0]['v']}" if totals else "0.0"


def cancelled_ids():
    """Every cancelled event's id, for `reconcile` to finish settling their tickets."""
    return [event["_id"] for event in get_db().events.find({"status": CANCELLED}, {"_id": 1})]
