"""The `tickets` collection: the only code that reads or writes it.

A ticket holds its seats from the moment they are taken. A pending ticket whose hold
has lapsed is released lazily, by whoever reads availability or takes seats next: a
conditional update that exactly one process wins gives its seats back once.
"""

from datetime import timedelta

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import PyMongoError

from ..db import get_db
from ..errors import ApiError
from ..events import service as events

HOLDING = ("pending", "confirmed")
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

    :raise EventNotFound, EventStarted, SoldOut: why the seats could not be taken.
    """
    release_expired(now, event_id=event_id)
    event = events.take_seats(event_id, quantity, now)
    if event is None:
        raise why_no_seats(events.get(event_id), now)
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


def why_no_seats(event, now):
    if event is None:
        return EventNotFound()
    if event["date"] <= now:
        return EventStarted()
    return SoldOut()


def release_expired(now, event_id=None):
    """Expire the lapsed holds (of one event, or all) and give their seats back, once each."""
    lapsed = {"status": "pending", "expiresAt": {"$lte": now}}
    if event_id is not None:
        lapsed["event"] = event_id
    tickets = get_db().tickets
    for candidate in tickets.find(lapsed, {"_id": 1}).limit(1000):
        ticket = tickets.find_one_and_update(
            {**lapsed, "_id": candidate["_id"]},
            {"$set": {"status": "expired", "updatedAt": now}, "$inc": {"__v": 1}},
            return_document=ReturnDocument.AFTER,
        )
        if ticket is not None:  # this process won the release
            events.give_back_seats(ticket["event"], ticket["quantity"])


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
