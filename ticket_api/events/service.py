"""The `events` collection: the only code that reads or writes it.

Seats are counted in `seatsTaken` and only ever moved by atomic `$inc`s whose filters
re-check the rule, so no interleaving of processes can sell a seat twice.

Every write to an event also bumps one shared version number (`meta`, `_id: "events"`),
after the write: any process that reads a version sees at least the events as they were
when it was set, which is what lets each worker cache the event list (`listing.py`).
"""

import logging

from pymongo import ReturnDocument

from ..db import get_db, utcnow

log = logging.getLogger(__name__)


def create(*, default_currency, **fields):
    now = utcnow()
    event = {
        "currency": default_currency,
        "image": None,
        **fields,
        "seatsTaken": 0,
        "createdAt": now,
        "updatedAt": now,
        "__v": 0,
    }
    get_db().events.insert_one(event)
    bump_version()
    return event


def get(event_id):
    return get_db().events.find_one({"_id": event_id})


def list_page(*, upcoming, page, limit, now):
    """One page of events by date, and how many there are in all."""
    query = {"date": {"$gte": now}} if upcoming else {}
    events = get_db().events
    cursor = events.find(query).sort([("date", 1), ("_id", 1)]).skip((page - 1) * limit).limit(limit)
    return list(cursor), events.count_documents(query)


def take_seats(event_id, quantity, now):
    """Take `quantity` seats of an event that has not started, in one atomic update.

    :return: the event after the update, or None when it is missing, started or short
        of seats (the caller tells which).
    """
    event = get_db().events.find_one_and_update(
        {
            "_id": event_id,
            "date": {"$gt": now},
            "$expr": {"$lte": [{"$add": ["$seatsTaken", quantity]}, "$capacity"]},
        },
        {"$inc": {"seatsTaken": quantity, "__v": 1}, "$set": {"updatedAt": now}},
        return_document=ReturnDocument.AFTER,
    )
    if event is not None:
        bump_version()
    return event


def give_back_seats(event_id, quantity):
    """Return seats to an event; never below zero (a counter that would go there has
    drifted, which `flask reconcile` reports and repairs)."""
    result = get_db().events.update_one(
        {"_id": event_id, "seatsTaken": {"$gte": quantity}},
        {"$inc": {"seatsTaken": -quantity, "__v": 1}, "$set": {"updatedAt": utcnow()}},
    )
    if result.modified_count == 0:
        log.warning("event %s: %d seats to give back but fewer are counted", event_id, quantity)
    else:
        bump_version()


def version():
    """The events' version: it changes whenever any event does."""
    meta = get_db().meta.find_one({"_id": "events"}, {"version": 1})
    return meta["version"] if meta else 0


def bump_version():
    get_db().meta.update_one({"_id": "events"}, {"$inc": {"version": 1}}, upsert=True)
