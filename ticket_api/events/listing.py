"""The event list and each event, cached in each worker and kept correct across workers.

Listing 50 events costs a scan for lapsed holds, a query, a count and a dump; it is the
page every buyer loads during an on-sale rush, and the event's own page the one a buyer
polls for the seats left. Each worker keeps the pages it rendered, keyed by the events'
version (`store.version()`, which changes whenever any event does), so a page is served
again only while no event changed anywhere, and only until the earliest hold it counted
may lapse (then the lapsed holds are released first, as on any read of availability).
The version comes from the worker's copy of the events while it is current (no database
command at all), else from one read. One event is kept the same way. The ETag is a hash of
what is sent, the same in every worker, so a browser's `If-None-Match` gets a 304 from
any of them while the page is unchanged. Anything is also dropped after `MAX_AGE`:
`?upcoming=true` changes when time passes an event's start, with no write, and data
edited by hand may change no `__v`.
"""

import hashlib
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from flask import current_app

from .. import tickets
from ..sales import settlement
from . import store
from .schemas import EventSchema

MAX_AGE = 5.0  # seconds
MAX_PAGES = 64
EVENTS = EventSchema(many=True)


@dataclass
class Page:
    body: bytes
    total: int
    version: str  # the events' version it was built at
    next_lapse: datetime | None  # the earliest pending hold's expiry when it was built
    built: float

    @cached_property
    def etag(self):
        """A hash of what is sent: the same in every worker for the same page."""
        return hashlib.sha256(b"%d:%s" % (self.total, self.body)).hexdigest()[:32]

    def fresh(self, now):
        due = self.next_lapse is not None and self.next_lapse <= now
        return not due and time.monotonic() - self.built <= MAX_AGE


class PageCache:
    """Rendered pages by (version, query); one thread of the worker builds a given page
    at a time, so a page that ages out under load is not rebuilt by every thread at once."""

    def __init__(self):
        self.pages = OrderedDict()
        self.lock = threading.Lock()
        self.builds = {}  # key -> the lock its one builder holds

    def page(self, key, now, build):
        """The page for `key`: cached while fresh. Otherwise one thread calls `build()`;
        the others wait for its page, or, when only the age of a page of this same
        version ran out, go on serving that page meanwhile."""
        with self.lock:
            cached = self.pages.get(key)
            if cached is not None and cached.fresh(now):
                self.pages.move_to_end(key)
                return cached
            building = self.builds.setdefault(key, threading.Lock())
        if not building.acquire(blocking=cached is None):
            return cached
        try:
            with self.lock:
                done = self.pages.get(key)
            if done is not None and done is not cached and done.fresh(now):
                return done  # built by the thread this one waited for
            built = build()
            # Also under the version it was asked for: releasing holds may have bumped the
            # version meanwhile, and a newer page is right for whoever read an older one.
            self.put(key, built)
            self.put((built.version, *key[1:]), built)
            return built
        finally:
            with self.lock:
                self.builds.pop(key, None)
            building.release()

    def put(self, key, page):
        with self.lock:
            self.pages[key] = page
            self.pages.move_to_end(key)
            while len(self.pages) > MAX_PAGES:
                self.pages.popitem(last=False)


def page(*, upcoming, page, limit, now):
    """(JSON body, total, weak ETag value) of one page of the event list."""
    cache = current_app.extensions.setdefault("event_pages", PageCache())  # one per app and database

    def build():
        settlement.release_lapsed_holds(now=now)
        version = store.version()  # after releasing, which bumps it
        next_lapse = tickets.store.next_lapse()
        events, total = store.list_page(upcoming=upcoming, page=page, limit=limit, now=now)
        body = json.dumps(EVENTS.dump(events), separators=(",", ":")).encode()
        return Page(body, total, version, next_lapse, time.monotonic())

    built = cache.page((store.version(), upcoming, page, limit), now, build)
    return built.body, built.total, built.etag



@dataclass
class KeptEvent:
    event: dict  # as shown
    generation: int  # of this worker's copy of the events, when it was built
    next_lapse: datetime | None
    built: float

    fresh = Page.fresh


def event(event_id, *, now):
    """The event as `GET /events/<id>` shows it, lapsed holds released first; None when
    there is no such event. Kept while this worker's copy of the events is current and
    unchanged since; else read, as every read of seats, after releasing."""
    copy = store.mirrored()
    if copy is None or copy.get(event_id) is None:  # so nothing is kept for an id that is no event
        return as_now(event_id, now)
    generation = copy.generation  # before reading: a change meanwhile makes the next request read again
    kept = current_app.extensions.setdefault("events_kept", {})  # one per app and database
    entry = kept.get(event_id)
    if entry is None or entry.generation != generation or not entry.fresh(now):
        entry = kept[event_id] = KeptEvent(as_now(event_id, now), generation, tickets.store.next_lapse(),
                                           time.monotonic())
    return entry.event


def as_now(event_id, now):
    settlement.release_lapsed_holds(now=now, event_id=event_id)
    return store.get(event_id)
