"""The event list's cache: ETag and 304, never stale across workers, rebuilt once a hold it
counted may have lapsed, built by one thread at a time."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from support import wait_for
from ticket_api.events import listing


def test_the_list_answers_304_until_an_event_changes(client, auth, events):
    event = events.create(capacity=5)
    first = client.get("/events")
    etag = first.headers["ETag"]

    again = client.get("/events", headers={"If-None-Match": etag})
    client.post("/tickets", json={"eventId": event["_id"]}, headers=auth.user_headers())
    changed = client.get("/events", headers={"If-None-Match": etag})

    assert etag.startswith('W/"')
    assert again.status_code == 304
    assert again.headers["X-Total-Count"] == "1"
    assert changed.status_code == 200
    assert changed.json[0]["ticketsAvailable"] == 4
    assert changed.headers["ETag"] != etag


def test_a_worker_lists_what_another_worker_changed_within_half_a_second(make_app, client, auth, events):
    """Each worker keeps a page at most `listing.MAX_AGE`."""
    event = events.create(capacity=5)
    assert client.get("/events").json[0]["ticketsAvailable"] == 5  # cached in this app
    other_worker = make_app()
    other_worker.test_client().post("/tickets", json={"eventId": event["_id"], "quantity": 2},
                                    headers=auth.user_headers())
    sold = time.monotonic()

    assert wait_for(lambda: client.get("/events").json[0]["ticketsAvailable"] == 3, 2, every=0.01)
    assert time.monotonic() - sold < 2 * listing.MAX_AGE


def test_a_cached_page_is_rebuilt_once_a_hold_it_counted_may_have_lapsed(app, client, auth, events):
    event = events.create(capacity=4)
    client.post("/tickets", json={"eventId": event["_id"], "quantity": 4}, headers=auth.user_headers())
    now = datetime.now(UTC)

    with app.test_request_context():
        before, _, etag_before = listing.page(upcoming=False, page=1, limit=100, now=now)
        cached, _, etag_cached = listing.page(upcoming=False, page=1, limit=100, now=now + timedelta(minutes=14))
        after, _, etag_after = listing.page(upcoming=False, page=1, limit=100, now=now + timedelta(minutes=16))

    assert json.loads(before)[0]["ticketsAvailable"] == 0
    assert etag_cached == etag_before  # nothing can have lapsed yet: served from the cache
    assert json.loads(after)[0]["ticketsAvailable"] == 4
    assert etag_after != etag_before


def a_page(body, age=0.0):
    return listing.Page(body, 0, 7, None, time.monotonic() - age)


def test_one_thread_builds_a_missing_page_while_the_others_wait_for_it():
    cache, builds = listing.PageCache(), []

    def build():
        builds.append(threading.get_ident())
        time.sleep(0.2)  # a slow build, not a wait: the other threads ask for the page meanwhile
        return a_page(b"[]")

    with ThreadPoolExecutor(8) as pool:
        pages = list(pool.map(lambda _: cache.page((7, False, 1, 100), datetime.now(UTC), build), range(8)))

    assert len(builds) == 1
    assert all(page is pages[0] for page in pages)


def test_an_aged_page_is_served_while_one_thread_rebuilds_it():
    cache, key, now = listing.PageCache(), (7, False, 1, 100), datetime.now(UTC)
    aged = a_page(b"aged", age=listing.MAX_AGE + 1)
    cache.put(key, aged)
    building, finish = threading.Event(), threading.Event()

    def slow_build():
        building.set()
        finish.wait(5)
        return a_page(b"new")

    def no_second_build():
        raise AssertionError("built twice")

    with ThreadPoolExecutor(1) as pool:
        rebuilt = pool.submit(cache.page, key, now, slow_build)
        assert building.wait(5)
        served_meanwhile = cache.page(key, now, no_second_build)
        finish.set()
        assert rebuilt.result().body == b"new"

    assert served_meanwhile is aged
    assert cache.page(key, now, no_second_build).body == b"new"
