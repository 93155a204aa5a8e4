"""No seat is sold twice, whatever the concurrency: real threads, real processes, real database."""

import multiprocessing
import random
import threading

import pytest
from bson import ObjectId

from support import lapse
from ticket_api import close, create_app

HOLDING = {"status": {"$in": ["pending", "confirmed"]}}


def race(app, requests, reads=()):
    """Run each (headers, body) as POST /tickets from its own thread, and each path of `reads`
    as a GET from its own, all released at once: the results of the POSTs."""
    results = [None] * len(requests)
    barrier = threading.Barrier(len(requests) + len(reads))

    def buy(index, headers, body):
        client = app.test_client()
        barrier.wait()
        response = client.post("/tickets", json=body, headers=headers)
        results[index] = (body.get("quantity", 1), response.status_code, response.json)

    def read(path):
        client = app.test_client()
        barrier.wait()
        client.get(path)

    workers = [threading.Thread(target=buy, args=(n, *request)) for n, request in enumerate(requests)]
    workers += [threading.Thread(target=read, args=(path,)) for path in reads]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


def seats_held(database, event_id):
    tickets = database.tickets.find({"event": ObjectId(event_id), **HOLDING})
    return sum(ticket["quantity"] for ticket in tickets)


def assert_never_oversold(client, database, event, results, held_before=0):
    sold = held_before + sum(quantity for quantity, status, _ in results if status == 201)
    losers = [(quantity, body) for quantity, status, body in results if status != 201]
    available = client.get(f"/events/{event['_id']}").json["ticketsAvailable"]

    assert sold <= event["capacity"]
    assert all(body == {"message": "Sold out", "code": "sold_out"} for _, body in losers), losers[:3]
    assert sold == seats_held(database, event["_id"])
    assert available == event["capacity"] - seats_held(database, event["_id"])
    assert all(quantity > available for quantity, _ in losers)
    return sold


def hundred_buyers(auth, event, seed):
    """100 buyers, each asking for 1 to 3 seats of the event."""
    randomly = random.Random(seed)
    return [
        (headers, {"eventId": event["_id"], "quantity": randomly.randint(1, 3)})
        for headers in auth.many_user_headers(100)
    ]


def test_a_hundred_threads_race_for_thirty_seats(app, client, auth, events, database):
    event = events.create(capacity=30)
    requests = hundred_buyers(auth, event, seed=30)

    results = race(app, requests)

    assert assert_never_oversold(client, database, event, results) >= 28


def buy_in_process(settings, requests, queue):
    """A separate process with its own app and MongoClient, racing with its own threads."""
    app = create_app(settings)
    try:
        queue.put(race(app, requests))
    finally:
        close(app)


@pytest.mark.system
def test_four_processes_race_for_thirty_seats(settings, client, auth, events, database):
    event = events.create(capacity=30)
    requests = hundred_buyers(auth, event, seed=4)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [
        context.Process(target=buy_in_process, args=(settings, requests[n::4], queue)) for n in range(4)
    ]
    for process in processes:
        process.start()
    results = [result for _ in processes for result in queue.get(timeout=120)]
    for process in processes:
        process.join(timeout=60)

    assert [process.exitcode for process in processes] == [0, 0, 0, 0]
    assert len(results) == 100
    assert assert_never_oversold(client, database, event, results) >= 28


def test_a_lapsed_hold_returns_its_seats_exactly_once_under_a_race(app, client, auth, events, database):
    event = events.create(capacity=10)
    holder = auth.user_headers()
    hold = client.post("/tickets", json={"eventId": event["_id"], "quantity": 4}, headers=holder).json
    client.post("/tickets", json={"eventId": event["_id"], "quantity": 6}, headers=holder)
    lapse(database, hold)
    everyone = auth.many_user_headers(15)
    buyers, late_buyers = everyone[:10], everyone[10:]

    results = race(app, [(headers, {"eventId": event["_id"], "quantity": 1}) for headers in buyers],
                   reads=[f"/events/{event['_id']}"] * 10)  # reading the event releases the hold too

    sold = sum(status == 201 for _, status, _ in results)
    assert database.tickets.find_one({"_id": ObjectId(hold["_id"])})["status"] == "expired"
    assert all(body == {"message": "Sold out", "code": "sold_out"} for _, status, body in results if status != 201)
    # Exactly once: the 4 seats are back and no more, whoever sold them. (A buyer who comes
    # between the hold's expiry and its seats' return is told "sold out": then fewer than
    # 4 are sold in the race, and the rest are sold afterwards.)
    assert sold <= 4
    assert database.events.find_one()["seatsTaken"] == 6 + sold == seats_held(database, event["_id"])
    late = [(headers, {"eventId": event["_id"], "quantity": 1}) for headers in late_buyers]
    assert [status for _, status, _ in race(app, late)].count(201) == 4 - sold
    assert database.events.find_one()["seatsTaken"] == 10 == seats_held(database, event["_id"])
