"""Recompute each event's seat counter from its tickets: the operator's safety net.

Seats are counted twice: in each event's `seatsTaken`, moved by atomic updates, and in
the pending and confirmed tickets themselves. A process that dies between taking seats
and storing the ticket (or between expiring a hold and giving its seats back) leaves
the counter too high: seats nobody holds, never sold. This finds and repairs that.

It is safe while the service sells: each event's counter is read with its version
(`__v`, bumped by every update), then the tickets are summed after a settle delay that
lets reservations caught mid-way store their tickets, and the correction is applied only
if the event's version is still the one read. An event that changed meanwhile is left
for the next run.
"""

import time
from dataclasses import dataclass

from ..db import get_db, utcnow
from ..events import service as events
from .service import HOLDING, release_expired

SETTLE_SECONDS = 2.0


@dataclass
class Drift:
    event_id: object
    name: str
    counted: int
    held: int
    repaired: bool


def find_drifts(*, repair, settle_seconds=SETTLE_SECONDS):
    """Compare every event's counter with the seats its tickets hold; repair when asked."""
    db = get_db()
    release_expired(utcnow())
    counters = list(db.events.find({}, {"name": 1, "seatsTaken": 1, "__v": 1}))
    time.sleep(settle_seconds)
    held = seats_held_by_event(db)
    drifts = []
    for event in counters:
        seats = held.get(event["_id"], 0)
        if seats != event["seatsTaken"]:
            repaired = repair and correct(db, event, seats)
            drifts.append(Drift(event["_id"], event["name"], event["seatsTaken"], seats, repaired))
    return drifts, len(counters)


def seats_held_by_event(db):
    pipeline = [
        {"$match": {"status": {"$in": list(HOLDING)}}},
        {"$group": {"_id": "$event", "seats": {"$sum": "$quantity"}}},
    ]
    return {row["_id"]: row["seats"] for row in db.tickets.aggregate(pipeline)}


def correct(db, event, seats):
    result = db.events.update_one(
        {"_id": event["_id"], "__v": event["__v"]},
        {"$inc": {"seatsTaken": seats - event["seatsTaken"], "__v": 1}, "$set": {"updatedAt": utcnow()}},
    )
    if result.modified_count == 1:
        events.bump_version()
    return result.modified_count == 1
