"""The `events` collection: the only code that reads or writes it (docs/design.md, "Seats").
Each write of this worker bumps its `generation()`, which its cached pages are keyed by, and
drops the event from what it read lately (`recent`)."""

import logging
import threading
import time

from flask import current_app

from ..db import get_db
from ..errors import INVALID_DATA, MAX_ATTEMPTS, ApiError, KeptChanging

log = logging.getLogger(__name__)

DEFAULT_MAX_PER_USER = 10  # events made before `maxPerUser` existed have none stored
SCHEDULED, CANCELLED = "scheduled", "cancelled"  # events made before `status` existed have none stored
NOT_CANCELLED = {"status": {"$ne": CANCELLED}}  # matches a missing status too (not an `$or`: query shapes)


class EventNotFound(ApiError):
    status_code, message, code = 404, "Event not found", "event_not_found"


class EventCancelled(ApiError):
    status_code, message, code = 409, "This event is cancelled", "event_cancelled"


class CapacityBelowSold(ApiError):
    status_code, code = 409, "capacity_below_sold"

    def __init__(self, seats_taken):
        super().__init__(f"The capacity cannot be less than the {seats_taken} seats already held and sold")


class RefundDeadlineAfterDate(ApiError):
    """A 400 shaped as the schema's validation errors (the date compared with may be the stored one)."""

    status_code, message, code = 400, INVALID_DATA, "invalid_data"
    REASON = "Must not be after the event's date."

    def body(self):
        return {**super().body(), "errors": {"json": {"refundDeadline": [self.REASON]}}}


RECENT_FOR = 0.5  # seconds: a "sold out" decided on an event read by this worker is at most this old


class Kept:
    """What this worker keeps of events: `generation`, bumped by each of its writes, and
    the events it `read` lately, by id: `(event, when)`."""

    def __init__(self):
        self.generation, self.read, self.lock = 0, {}, threading.Lock()


def kept():
    return current_app.extensions.setdefault("events_of_worker", Kept())


def generation():
    """Changes whenever this worker writes an event: what it built from events before is stale."""
    return kept().generation


def written(event_id=None, result=None):
    """After a write of the event (None: of any): what this worker built from events is
    stale. Returns `result`."""
    worker = kept()
    with worker.lock:
        worker.generation += 1
        if event_id is None:
            worker.read.clear()
        else:
            worker.read.pop(event_id, None)
    return result


def recent(event_id):
    """The event as this worker read it less than `RECENT_FOR` ago and has not written it
    since, else as stored now: a guess, which a seat update's filter checks."""
    worker = kept()
    found = worker.read.get(event_id)
    if found is not None and time.monotonic() - found[1] < RECENT_FOR:
        return found[0]
    before = worker.generation
    event = get(event_id)
    with worker.lock:
        if event is not None and worker.generation == before:  # no write of this worker in between
            worker.read[event_id] = (event, time.monotonic())
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
    return written(event["_id"], event)


def get(event_id):
    return get_db().events.find_one({"_id": event_id})


def edit(event_id, changes, *, now, approve=None):
    """Apply `changes` in one conditional update whose filter re-checks what the edit was decided
    on, reading the event again when it changed in between (docs/design.md, "Seats").

    :param approve: called with the event as read, raising to refuse; then `__v` must be unchanged too.
    :return: the event as stored after the edit, or None when there is no such event.
    :raise EventCancelled, CapacityBelowSold, RefundDeadlineAfterDate: why not."""
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
        done = get_db().events.update_one(
            {"_id": event_id, **unchanged}, {"$set": {**changes, "updatedAt": now}, "$inc": {"__v": 1}})
        if done.modified_count:
            return written(event_id, get(event_id))
    raise KeptChanging(f"event {event_id}: not edited after {MAX_ATTEMPTS} attempts")


def mark_cancelled(event_id, *, now, reason=None):
    """scheduled -> cancelled, keeping when and why. :return: whether this call cancelled it."""
    return written(event_id, get_db().events.update_one(
        {"_id": event_id, **NOT_CANCELLED},
        {"$set": {"status": CANCELLED, "cancelledAt": now, "cancelReason": reason, "updatedAt": now},
         "$inc": {"__v": 1}},
    ).modified_count == 1)


def list_page(*, upcoming, page, limit, now):
    query = {"date": {"$gte": now}} if upcoming else {}
    events = get_db().events
    cursor = events.find(query).sort([("date", 1), ("_id", 1)]).skip((page - 1) * limit).limit(limit)
    return list(cursor), events.count_documents(query)


def take_seats(event, quantity, *, now, after_start=False):
    """Take `quantity` seats of `event` (as just read) in one conditional update whose filter re-checks
    the rule, the capacity and the price read (docs/design.md, "Seats"); `after_start`: the box office.
    :return: the event with the seats taken; None when the stored event changed since it was read."""
    capacity = event["capacity"]
    not_started = {} if after_start else {"date": {"$gt": now}}
    taken = get_db().events.update_one(
        {"_id": event["_id"], **NOT_CANCELLED, **not_started, "capacity": capacity,
         "seatsTaken": {"$lte": capacity - quantity}, "price": event["price"], "currency": event["currency"]},
        {"$inc": {"seatsTaken": quantity, "__v": 1}, "$set": {"updatedAt": now}},
    ).modified_count
    if not written(event["_id"], taken):
        return None
    return {**event, "seatsTaken": event["seatsTaken"] + quantity, "__v": event["__v"] + 1, "updatedAt": now}


def give_back_seats(event_id, quantity, *, now):
    """Return seats to an event; never below zero (a drifted counter, which `reconcile` repairs)."""
    given_back = written(event_id, get_db().events.update_one(
        {"_id": event_id, "seatsTaken": {"$gte": quantity}},
        {"$inc": {"seatsTaken": -quantity, "__v": 1}, "$set": {"updatedAt": now}},
    ).modified_count)
    if not given_back:
        log.warning("event %s: %d seats to give back but fewer are counted", event_id, quantity)


def seat_counters():
    """Every event's name, seat counter and `__v`, for `reconcile`."""
    return list(get_db().events.find({}, {"name": 1, "seatsTaken": 1, "__v": 1}))


def correct_seats(event, seats, *, now):
    """Set the counter of `event` (as read) to `seats` if it is unchanged since. :return: whether it was."""
    return written(event["_id"], get_db().events.update_one(
        {"_id": event["_id"], "__v": event["__v"]},
        {"$inc": {"seatsTaken": seats - event["seatsTaken"], "__v": 1}, "$set": {"updatedAt": now}},
    ).modified_count == 1)


def cancelled_ids():
    return [event["_id"] for event in get_db().events.find({"status": CANCELLED}, {"_id": 1})]
