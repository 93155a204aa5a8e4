"""The on-sale race, measured: 100 buyers at once for 30 seats, over real HTTP.

Runs the same race under the Flask development server and under gunicorn with
threaded workers, side by side in one run, on one embedded database, and prints
reservations per second and latency percentiles of `POST /tickets` for each.

    python -m tests.bench.race [--rounds 5] [--buyers 100] [--seats 30]
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta

import requests
from pymongo import MongoClient

from tests.support import EmbeddedDatabase, free_port
from ticket_api import create_app, security

BENCH_KEY = "bench-" + "k" * 40
SERVERS = {
    "flask dev server (threaded)": ["-m", "flask", "--app", "wsgi", "run", "--port", "{port}"],
    "gunicorn 2 workers x 8 threads": [
        "-m", "gunicorn", "--workers", "2", "--threads", "8", "--bind", "127.0.0.1:{port}", "wsgi:app",
    ],
}


def app_config(uri, database, data_dir):
    """The settings an app of the bench is built with, to issue its buyers' tokens."""
    return {"MONGODB_URI": uri, "MONGODB_DB": database, "JWT_SECRET_KEY": BENCH_KEY, "RATELIMIT_ENABLED": False,
            "DATA_DIR": str(data_dir), "STRIPE_SECRET_KEY": "sk_test_bench"}


def insert_buyers(uri, database, count):
    """`count` users stored directly (no password to log in with): their documents."""
    users = [{"username": f"b{n}", "email": f"b{n}@example.com", "passwordHash": "-", "role": "user",
              "createdAt": 0, "updatedAt": 0, "__v": 0} for n in range(count)]
    with MongoClient(uri) as client:
        client[database].users.insert_many(users)
    return users


def seed_buyers(uri, database, count, data_dir):
    """Users stored directly, and their tokens, signed with the bench's key."""
    app = create_app(app_config(uri, database, data_dir))
    users = insert_buyers(uri, database, count)
    with app.app_context():
        return [{"Authorization": f"Bearer {security.issue_token(user)}"} for user in users]


def new_event(uri, database, seats):
    now = datetime.now(UTC)
    event = {"name": "rush", "date": now + timedelta(days=1), "capacity": seats, "price": 2500,
             "currency": "usd", "seatsTaken": 0, "createdAt": now, "updatedAt": now, "__v": 0}
    with MongoClient(uri) as client:
        client[database].events.insert_one(event)
    return str(event["_id"])


def one_race(base_url, buyers, event_id, quantity=None):
    """Each buyer's `POST /tickets`, all released at once: `quantity` seats each (None: 1 to 3
    at random). Timed from the release, not from starting the buyers' threads."""
    latencies, statuses, released = [], [], []
    barrier = threading.Barrier(len(buyers), action=lambda: released.append(time.perf_counter()))
    session_local = threading.local()

    def buy(headers):
        session = session_local.__dict__.setdefault("s", requests.Session())
        seats = quantity or random.randint(1, 3)
        body = {"eventId": event_id, "quantity": seats}
        barrier.wait()
        started = time.perf_counter()
        response = session.post(f"{base_url}/tickets", json=body, headers=headers, timeout=60)
        latencies.append(time.perf_counter() - started)
        statuses.append((response.status_code, seats))

    threads = [threading.Thread(target=buy, args=(headers,)) for headers in buyers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - released[0], latencies, statuses


def peer_style(base_url, event_id, accounts, purchases=500):
    """The race other servers are compared on: `purchases` requests for one seat each, all
    released at once, from `len(accounts)` accounts in turn.

    :return: elapsed seconds, and the (status, seats) of each request.
    """
    buyers = [accounts[n % len(accounts)] for n in range(purchases)]
    elapsed, _, statuses = one_race(base_url, buyers, event_id, quantity=1)
    return elapsed, statuses


def serve(name, uri, database):
    port = free_port()
    args = [sys.executable, *[part.format(port=port) for part in SERVERS[name]]]
    env = {"MONGODB_URI": uri, "MONGODB_DB": database, "JWT_SECRET_KEY": BENCH_KEY, "RATELIMIT_ENABLED": "false",
           "STRIPE_SECRET_KEY": "sk_test_bench"}  # required to start; a reservation asks Stripe nothing
    return start_server(args, env, port, name)


def start_server(args, env, port, name, cwd=None):
    """Start a server process with `env` added (in `cwd`, if named), and wait until its /healthz answers."""
    process = subprocess.Popen(args, env={**os.environ, **env}, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.get(f"{base_url}/healthz", timeout=1)
            return process, base_url
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{name} did not start")


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--buyers", type=int, default=100)
    parser.add_argument("--seats", type=int, default=30)
    options = parser.parse_args()
    server = EmbeddedDatabase(":memory:").start()
    try:
        database = "bench_race"
        buyers = seed_buyers(server.uri, database, options.buyers, tempfile.mkdtemp(prefix="ticket_api_race_"))
        print(f"{options.buyers} buyers racing for {options.seats} seats, {options.rounds} rounds each\n")
        columns = ("seats sold/s", "requests/s", "p50 ms", "p99 ms", "seats sold")
        print(f"{'server':34}" + "".join(f"{column:>15}" for column in columns))
        for name in SERVERS:
            process, base_url = serve(name, server.uri, database)
            try:
                elapsed, latencies, sold = 0.0, [], 0
                for _ in range(options.rounds):
                    event_id = new_event(server.uri, database, options.seats)
                    seconds, round_latencies, statuses = one_race(base_url, buyers, event_id)
                    elapsed += seconds
                    latencies += round_latencies
                    sold += sum(quantity for status, quantity in statuses if status == 201)
                    assert {status for status, _ in statuses} <= {201, 409}, statuses
            finally:
                process.terminate()
                process.wait()
            figures = (sold / elapsed, len(latencies) / elapsed, statistics.median(latencies) * 1000,
                       percentile(latencies, 0.99) * 1000, sold / options.rounds)
            print(f"{name:34}" + "".join(f"{figure:15.1f}" for figure in figures))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
