"""The on-sale rush of `make bench`, over real HTTP to gunicorn: buyers reserve a seat each
and pay for it, so many at a time, on the new code and on the old (`side_by_side`), and the
same rush with reservations only (nobody pays); what a reservation costs the database, with
seats free and sold out; and the race other servers are compared on (`race.peer_style`)."""

import os
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
import stripe
from bson import ObjectId
from pymongo import MongoClient

from tests.bench.commands import Counters
from tests.bench.race import new_event, peer_style

DATABASE = "bench"
BUYERS_IN_FLIGHT = 100
THREADS_IN_FLIGHT = int(os.environ.get("WEB_CONCURRENCY", "2")) * int(os.environ.get("GUNICORN_THREADS", "8"))
LOADS = (BUYERS_IN_FLIGHT, THREADS_IN_FLIGHT)  # buyers in flight in the side-by-side rush
RESERVE_ONLY_ROUNDS = 2  # of the side-by-side rush with reservations only, at BUYERS_IN_FLIGHT
SIDES = ("old", "new")
PEER_RACE = {"purchases": 500, "accounts": 50, "seats": 100}


@dataclass
class Side:
    """One code in the side-by-side rush: its folder, its database (`counters.database`, on
    the server both share), its buyers, an event to warm up on, its gunicorn's URL."""

    name: str
    folder: Path
    data_dir: Path
    counters: Counters
    buyers: list
    warm_up_event: str
    base_url: str = ""


def seed_rush_event(uri, database, seats, name):
    now = datetime.now(UTC)
    event = {"name": name, "date": now + timedelta(days=60), "capacity": seats, "price": 2500, "currency": "usd",
             "location": "Main hall", "description": "The show everyone wants.", "image": None, "seatsTaken": 0,
             "createdAt": now, "updatedAt": now, "__v": 0}
    with MongoClient(uri) as client:
        client[database].events.insert_one(event)
    return str(event["_id"])


def rush(base_url, buyers, event_id, in_flight, pay=True):
    """Every buyer reserves one seat, and pays for it when they got one (unless not to
    `pay`); `in_flight` at a time."""
    reserve_ms, pay_ms, outcomes = [], [], []

    def buy(headers):
        session = requests.Session()
        started = time.perf_counter()
        held = session.post(f"{base_url}/tickets", json={"eventId": event_id}, headers=headers, timeout=120)
        reserve_ms.append((time.perf_counter() - started) * 1000)
        if held.status_code != 201 or not pay:
            outcomes.append(held.status_code)
            return
        ticket = held.json()
        started = time.perf_counter()
        paid = session.post(f"{base_url}/payment", headers=headers, timeout=120,
                            json={"ticketId": ticket["_id"], "amount": ticket["amount"], "token": "pm_card_visa"})
        pay_ms.append((time.perf_counter() - started) * 1000)
        outcomes.append(paid.status_code)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        list(pool.map(buy, buyers))
    return time.perf_counter() - started, reserve_ms, pay_ms, outcomes


def measured_rush(counters, base_url, buyers, event_id, in_flight, pay=True):
    """`rush`, and what it sold and cost; `other`: the buyers answered neither a win (a
    payment's 200, or a hold's 201 when nobody pays) nor "sold out"."""
    (elapsed, reserve_ms, pay_ms, outcomes), cost = counters.cost(len(buyers), rush, base_url, buyers, event_id,
                                                                  in_flight, pay)
    won = 200 if pay else 201
    return {"elapsed": elapsed, "reserve_ms": reserve_ms, "pay_ms": pay_ms, "sold": seats_sold(counters, event_id),
            "paid": outcomes.count(200), "other": len([o for o in outcomes if o not in (won, 409)]), "commands": cost}


def warm_up(side, buyers=300):
    """A rush not measured, for the event `onsale.seed` made in the side's database: each
    worker's database connections opened and the paths of a reservation and a payment run,
    as wrk's warm-up does for the new code's other measures."""
    rush(side.base_url, side.buyers[:buyers], side.warm_up_event, BUYERS_IN_FLIGHT)


def side_by_side(sides, seats, rounds, loads=LOADS, pay=True):
    """The rush on each side at each of `loads`, one side under load at a time, in turns: in
    each round and at each load every side once, the order reversed from one round to the
    next (old, new, then new, old), so neither a hiccup of the shared machine nor going
    second lands on one side only. Each rush on an event of its own with `seats`; the
    winners pay unless not to `pay`.

    :return: {side's name: {buyers in flight: [`measured_rush` of each round]}}
    """
    runs = {side.name: {load: [] for load in loads} for side in sides}
    kind = "" if pay else ", reservations only"
    for number in range(rounds):
        for load in loads:
            for side in sides if number % 2 == 0 else sides[::-1]:
                event_id = seed_rush_event(side.counters.uri, side.counters.database, seats,
                                           f"rush {number + 1}, {load} at a time{kind}")
                runs[side.name][load].append(measured_rush(side.counters, side.base_url, side.buyers, event_id, load,
                                                           pay))
    return runs


def seats_sold(counters, event_id):
    """The seats of the event's tickets held or paid for, as stored."""
    tickets = counters.client[counters.database].tickets.find(
        {"event": ObjectId(event_id), "status": {"$in": ["pending", "confirmed"]}}, {"quantity": 1})
    return sum(ticket["quantity"] for ticket in tickets)


def reservation_costs(counters, base_url, buyers, seats):
    """Commands per reservation with seats free (`seats` buyers for as many seats), then per
    "sold out" answer (the same buyers again, for that event now sold out); as many buyers
    at a time as gunicorn has threads, nobody paying. With the statuses answered."""
    event_id = seed_rush_event(counters.uri, counters.database, seats, "the costs")
    costs, statuses = {}, {}
    for name in ("reservation", "sold_out"):
        ran, costs[name] = counters.cost(seats, rush, base_url, buyers[:seats], event_id, THREADS_IN_FLIGHT,
                                         pay=False)
        statuses[name] = dict(Counter(ran[3]))
    return costs, statuses


def peer_race(counters, base_url, accounts):
    """`race.peer_style` on an event of its own: sold, oversold, seconds, purchases/s, commands each."""
    event_id = new_event(counters.uri, counters.database, PEER_RACE["seats"])
    (elapsed, statuses), cost = counters.cost(PEER_RACE["purchases"], peer_style, base_url, event_id,
                                              accounts[:PEER_RACE["accounts"]], PEER_RACE["purchases"])
    sold = seats_sold(counters, event_id)
    return {"sold": sold, "oversold": max(0, sold - PEER_RACE["seats"]), "elapsed": elapsed,
            "per_second": PEER_RACE["purchases"] / elapsed, "commands": cost,
            "other": len([status for status, _ in statuses if status not in (201, 409)])}


def double_charges(standin_url, counters):
    """The charges beyond the first of a ticket, and the charges in all, at the Stripe
    stand-in, of the tickets in `counters`' database (the stand-in serves both sides)."""
    tickets = {str(ticket["_id"]) for ticket in counters.client[counters.database].tickets.find({}, {"_id": 1})}
    client = stripe.StripeClient("sk_test_bench", base_addresses={"api": standin_url}).v1
    charged = {}
    for intent in client.payment_intents.list(params={"limit": 100}).auto_paging_iter():
        ticket = intent.metadata.to_dict().get("ticketId")
        if intent.status == "succeeded" and ticket in tickets:
            charged[ticket] = charged.get(ticket, 0) + 1
    return sum(count - 1 for count in charged.values()), sum(charged.values())
