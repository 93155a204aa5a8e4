"""What the embedded database's scans cost, next to the shapes `ticket_api/db.py` ("Query
shapes") writes instead: each pair run on the same collection, in one run, as medians.

The collections are filled through the real indexes (`db.INDEXES`): 3,000 tickets and
2,000 events, the sizes at which the scans were first seen.
"""

import statistics
import time
from datetime import UTC, datetime, timedelta

from bson import ObjectId
from pymongo import MongoClient, ReturnDocument

from ticket_api import db

DATABASE = "bench_query_shapes"
TICKETS = 3000
EVENTS = 2000
SAMPLES = 15


def median_ms(run):
    times = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def seeded(client):
    database = client[DATABASE]
    db.ensure_indexes(database)
    now = datetime.now(UTC)
    events = [{"_id": ObjectId(), "date": now + timedelta(days=1 + n % 300), "capacity": 10**6, "seatsTaken": 0,
               "price": 2500, "__v": 0} for n in range(EVENTS)]
    database.events.insert_many(events)
    tickets = [{"_id": ObjectId(), "event": events[n % EVENTS]["_id"], "user": ObjectId(), "quantity": 1,
                "amount": 2500, "status": "pending", "expiresAt": now + timedelta(minutes=15), "createdAt": now,
                "__v": 0} for n in range(TICKETS)]
    database.tickets.insert_many(tickets)
    return database, events[EVENTS // 2]["_id"], tickets[TICKETS // 2]["_id"]


def measure(uri):
    """[(what, the shape we write in ms, the scanning shape in ms)]"""
    client = MongoClient(uri)
    try:
        database, event_id, ticket_id = seeded(client)
        now = datetime.now(UTC)
        not_charging = {"chargingSince": {"$not": {"$gt": now}}}
        either = {"$or": [{"chargingSince": None}, {"chargingSince": {"$lte": now}}]}
        claim = {"$inc": {"__v": 1}}
        take = {"$inc": {"seatsTaken": 1, "__v": 1}}

        def read_then_take():
            event = database.events.find_one({"_id": event_id})
            database.events.update_one({"_id": event_id, "date": {"$gt": now}, "capacity": event["capacity"],
                                        "seatsTaken": {"$lte": event["capacity"] - 1}}, take)

        return [
            ("a conditional ticket update: `update_one` keyed by `_id`, against `find_one_and_update`",
             median_ms(lambda: database.tickets.update_one({"_id": ticket_id, "status": "pending"}, claim)),
             median_ms(lambda: database.tickets.find_one_and_update(
                 {"_id": ticket_id, "status": "pending"}, claim, return_document=ReturnDocument.AFTER))),
            ("\"not being charged\": `$not`, against a top-level `$or`",
             median_ms(lambda: database.tickets.update_one({"_id": ticket_id, **not_charging}, claim)),
             median_ms(lambda: database.tickets.update_one({"_id": ticket_id, **either}, claim))),
            ("lapsed holds: exactly the index's fields, against one field more",
             median_ms(lambda: list(database.tickets.find({"status": "pending", "expiresAt": {"$lte": now}}))),
             median_ms(lambda: list(database.tickets.find(
                 {"status": "pending", "expiresAt": {"$lte": now}, "quantity": {"$gte": 1}})))),
            ("taking a seat: read, then `update_one` re-checking the values read, against one `$expr` update",
             median_ms(read_then_take),
             median_ms(lambda: database.events.update_one(
                 {"_id": event_id, "date": {"$gt": now},
                  "$expr": {"$lte": [{"$add": ["$seatsTaken", 1]}, "$capacity"]}}, take))),
        ]
    finally:
        client.drop_database(DATABASE)
        client.close()


def rows(shapes):
    return [f"| query shape: {what} ({TICKETS:,} tickets, {EVENTS:,} events) | {ours:.1f} ms against {scan:.1f} ms "
            f"| {scan / ours:.0f}x |" for what, ours, scan in shapes]
