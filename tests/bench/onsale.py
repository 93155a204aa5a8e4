"""`make bench`: the service under gunicorn (gunicorn.conf.py) on the embedded database,
measured side by side in one run, printed as a table with each target met or missed
(`report.py`), and written to BENCHMARKS.md.

- `GET /events` (50 events) with wrk at 32 and 128 connections, next to the same load on
  `GET /livez` (no database at all: the framework's own floor), `GET /healthz` (one
  database ping) and a raw pymongo query of the same 50 events (the database's own
  ceiling), so each figure is also a ratio;
- database commands per request, counted by the database server (`commands.py`): a cached
  `GET /events`, a buyer of the rush, a reservation with seats free, a "sold out" answer;
- the on-sale rush (`rush.py`): 1,000 logged-in buyers race for 200 seats (reserve, then pay with
  `pm_card_visa`), 100 at a time, and again with as many buyers at a time as gunicorn has
  threads, so the latency of a request is told apart from its wait in line; on the new
  code and on the old (`baseline.py`: a commit checked out beside the working tree, under
  a gunicorn of its own on a database of its own), one under load at a time, in turns,
  `--rounds` times each (medians): reservations/s new against old, seats sold, oversold,
  double charges counted at the Stripe stand-in; and, beside it for information, the same
  rush at 100 at a time with reservations only (nobody pays), `--reserve-only-rounds`
  times each, old and new in turns;
- the race other servers are compared on (`race.peer_style`): 500 requests for one seat,
  from 50 accounts, all at once, for 100 seats;
- login at the configured bcrypt cost, against the bound `cores / time of one hash`;
- peak RSS of each gunicorn worker;
- the embedded database's scans, next to the query shapes that avoid them (`query_shapes.py`).

    python -m tests.bench.onsale [--seconds 10] [--buyers 1000] [--seats 200] [--rounds 4]
                                 [--reserve-only-rounds 2] [--baseline COMMIT] [--write BENCHMARKS.md]
"""

import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bcrypt
import requests
from pymongo import MongoClient

from tests.bench import baseline, commands, query_shapes, report, rush
from tests.bench.baseline import ROOT
from tests.bench.race import BENCH_KEY, start_server
from tests.bench.rush import DATABASE, SIDES
from tests.support import EmbeddedDatabase, EmbeddedStripe, free_port

BASELINE_DATABASE = "bench_baseline"  # the old code's, on the same database server
LOGIN_LUA = """
wrk.method = "POST"
wrk.body = '{"email": "fan@example.com", "password": "correct horse battery"}'
wrk.headers["Content-Type"] = "application/json"
"""
URLS = {"events": "/events?limit=50", "healthz": "/healthz", "livez": "/livez"}


def wrk(url, connections, seconds, script=None):
    """requests/s, p50 and p99 (ms) from wrk's own report."""
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        args[1:1] = ["-s", script]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rate, latency(out, "50%"), latency(out, "99%")


def alternating(base_url, connections, seconds, rounds=3):
    """Each of `URLS` in turns, the median of each: a hiccup of the shared machine during
    one run would otherwise skew their ratios."""
    runs = {kind: [] for kind in URLS}
    for _ in range(rounds):
        for kind, path in URLS.items():
            runs[kind].append(wrk(f"{base_url}{path}", connections, max(2, seconds // rounds)))
    return {kind: tuple(statistics.median(run[i] for run in runs[kind]) for i in range(3)) for kind in runs}


def latency(wrk_output, quantile):
    value, unit = re.search(rf"{quantile}\s+([\d.]+)(us|ms|s)", wrk_output).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def raw_pymongo(uri, connections, seconds):
    """The same 50-event query straight from pymongo, from `connections` threads."""
    client = MongoClient(uri, maxPoolSize=connections)
    events = client[DATABASE].events
    done = []
    deadline = time.monotonic() + seconds

    def loop():
        count = 0
        while time.monotonic() < deadline:
            list(events.find({}).sort([("date", 1), ("_id", 1)]).limit(100))
            count += 1
        done.append(count)

    threads = [threading.Thread(target=loop) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()
    return sum(done) / seconds


def seed(uri, database, seats):
    now = datetime.now(UTC)
    listed = [{"name": f"show {n}", "date": now + timedelta(days=n + 1), "capacity": 300, "price": 2500,
               "currency": "usd", "location": "Main hall", "description": "An evening of music.", "image": None,
               "seatsTaken": 0, "createdAt": now, "updatedAt": now, "__v": 0} for n in range(49)]
    with MongoClient(uri) as client:
        client[database].events.insert_many(listed)
        # The events' version, as the code before issue 16 (`BENCH_BASELINE`) keeps it, and
        # so the database server's `top` lists `meta` (it lists existing collections only)
        # when that code reads it. The code now keeps none.
        client[database].meta.insert_one({"_id": "events", "version": 1})
        password_hash = bcrypt.hashpw(b"correct horse battery", bcrypt.gensalt(12)).decode()
        client[database].users.insert_one({"username": "fan", "email": "fan@example.com", "role": "user",
                                           "passwordHash": password_hash, "createdAt": now, "updatedAt": now,
                                           "__v": 0})
    return rush.seed_rush_event(uri, database, seats, "the big one")


def list_hit_cost(counters, base_url, hits=200):
    """Commands per `GET /events` answered from a worker's cache: one kept-alive connection,
    so one worker, whose page the first request builds if it is not cached already."""
    session = requests.Session()
    url = f"{base_url}{URLS['events']}"
    session.get(url, timeout=30).raise_for_status()

    def hit():
        for _ in range(hits):
            session.get(url, timeout=30).raise_for_status()

    return counters.cost(hits, hit)[1]


def worker_peak_rss_mb(master_pid):
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    peaks = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024)
    return peaks


@contextmanager
def gunicorn(uri, standin_url, side):
    """The side's code under gunicorn, started in its folder with its own gunicorn.conf.py,
    on its database: the process, stopped on leaving; `side.base_url` set."""
    port = free_port()
    env = {"APP_ENV": "development", "MONGODB_URI": uri, "MONGODB_DB": side.counters.database,
           "JWT_SECRET_KEY": BENCH_KEY, "RATELIMIT_ENABLED": "false", "STRIPE_SECRET_KEY": "sk_test_bench",
           "STRIPE_API_BASE": standin_url, "DATA_DIR": str(side.data_dir), "PORT": str(port)}
    args = [sys.executable, "-m", "gunicorn", "-c", str(side.folder / "gunicorn.conf.py"), "wsgi:app"]
    process, side.base_url = start_server(args, env, port, f"gunicorn of the {side.name} code", cwd=side.folder)
    try:
        yield process
    finally:
        process.terminate()
        process.wait()


def bcrypt_bound(rounds=12, samples=5):
    hashed = bcrypt.hashpw(b"correct horse battery", bcrypt.gensalt(rounds))
    started = time.perf_counter()
    for _ in range(samples):
        bcrypt.checkpw(b"correct horse battery", hashed)
    return os.cpu_count() / ((time.perf_counter() - started) / samples)


def measure(options):
    results = {"baseline": baseline.described(options.baseline)}
    data_dir = Path(tempfile.mkdtemp(prefix="ticket_api_bench_"))
    with ExitStack() as stack:
        folders = {"new": ROOT, "old": stack.enter_context(baseline.checkout(results["baseline"]["commit"]))}
        database = EmbeddedDatabase(data_dir / "db").start()
        stack.callback(database.stop)
        standin = EmbeddedStripe().start()
        stack.callback(standin.stop)
        results["query_shapes"] = query_shapes.measure(database.uri)
        sides = {name: seeded_side(stack, database.uri, name, folders[name], data_dir, options) for name in SIDES}
        new = sides["new"]
        server = stack.enter_context(gunicorn(database.uri, standin.url, new))
        for path in URLS.values():
            wrk(f"{new.base_url}{path}", 32, 2)  # warm-up, not measured: pools filled, pages cached
        for connections in (32, 128):
            for kind, figures in alternating(new.base_url, connections, options.seconds).items():
                results[f"{kind}_{connections}"] = figures
            results[f"pymongo_{connections}"] = raw_pymongo(database.uri, connections, options.seconds)
        results["commands"] = {"list_hit": list_hit_cost(new.counters, new.base_url)}
        results["rush"], results["rush_reserve_only"] = rush_old_and_new(database.uri, standin.url, sides, options)
        results["double_charges"] = {name: rush.double_charges(standin.url, side.counters)
                                     for name, side in sides.items()}
        costs, results["reservation_statuses"] = rush.reservation_costs(new.counters, new.base_url, new.buyers,
                                                                        options.seats)
        results["commands"].update(costs, **{f"rush_buyer_{name}": runs[rush.BUYERS_IN_FLIGHT][0]["commands"]
                                             for name, runs in results["rush"].items()})
        results["peer_race"] = rush.peer_race(new.counters, new.base_url, new.buyers)
        lua = data_dir / "login.lua"
        lua.write_text(LOGIN_LUA)
        results["login"] = wrk(f"{new.base_url}/auth/login", 8, options.seconds, script=str(lua))
        results["login_bound"] = bcrypt_bound()
        results["rss_mb"] = worker_peak_rss_mb(server.pid)
    return results


def seeded_side(stack, uri, name, folder, data_dir, options):
    """One code's side of the bench: its database on the shared server seeded (`seed`), its
    buyers' tokens issued by its own code, its command counters (closed with `stack`)."""
    database = {"new": DATABASE, "old": BASELINE_DATABASE}[name]
    its_data = data_dir / name
    its_data.mkdir()
    warm_up_event = seed(uri, database, options.seats)
    buyers = baseline.seed_buyers(folder, uri, database, options.buyers, its_data)
    counters = stack.enter_context(closing(commands.Counters(uri, database)))
    return rush.Side(name, folder, its_data, counters, buyers, warm_up_event)


def rush_old_and_new(uri, standin_url, sides, options):
    """`rush.side_by_side` of the new code, already serving, and the old, whose gunicorn
    runs for this only, each warmed up first (`rush.warm_up`): the rush with payments, then
    with reservations only."""
    with gunicorn(uri, standin_url, sides["old"]):
        for side in sides.values():
            rush.warm_up(side)
        in_turns = [sides[name] for name in SIDES]
        return (rush.side_by_side(in_turns, options.seats, options.rounds),
                rush.side_by_side(in_turns, options.seats, options.reserve_only_rounds,
                                  loads=(rush.BUYERS_IN_FLIGHT,), pay=False))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--buyers", type=int, default=1000)
    parser.add_argument("--seats", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=4, help="rushes of each code at each load, in turns")
    parser.add_argument("--reserve-only-rounds", type=int, default=rush.RESERVE_ONLY_ROUNDS,
                        help="rushes of each code with reservations only, in turns")
    parser.add_argument("--baseline", default=os.environ.get("BENCH_BASELINE") or baseline.COMMIT,
                        help=f"the old code's commit (default: BENCH_BASELINE, else {baseline.COMMIT})")
    parser.add_argument("--write", type=Path, help="also write the table to this Markdown file")
    options = parser.parse_args()
    # A SIGTERM unwinds like Ctrl-C: the servers stopped, the old code's folder removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("make bench: stopped (SIGTERM)"))
    results = measure(options)
    printed = f"{report.table(results, options)}\n\nTargets (at 32 connections, and 100 buyers at a time, unless " \
              f"named):\n{report.verdicts(results, options)}"
    print(printed)
    if options.write:
        machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        options.write.write_text(
            f"# Benchmarks\n\n`make bench` on {datetime.now(UTC):%Y-%m-%d}, {machine}; the database (SecantusDB), "
            f"the Stripe stand-in, gunicorn ({os.environ.get('WEB_CONCURRENCY', '2')} workers x 8 threads) and the "
            f"load tools all on that one machine; the rush also on the old code, checked out beside the new "
            f"(commit {results['baseline']['commit']}: {results['baseline']['subject']}).\n\n{printed}\n\n"
            f"```json\n"
            f"{json.dumps({k: v for k, v in results.items() if not k.startswith('rush')}, indent=1, default=vars)}"
            f"\n```\n"
        )


if __name__ == "__main__":
    main()
