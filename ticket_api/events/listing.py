"""What `GET /events` and `GET /events/<id>` show, cached by each worker for at most `MAX_AGE`
(docs/design.md, "Cached event pages"). Nothing here decides a seat."""

import hashlib
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from flask import current_app

from ..sales import settlement
from ..stores import events, tickets
from .schemas import EventSchema

MAX_AGE = 0.5  # seconds: another worker's change is shown within this
MAX_PAGES = 64
EVENTS = EventSchema(many=True)


@dataclass
class Page:
    body: bytes
    total: int
    generation: int  # of this worker's writes to events, when it was built
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
    """Rendered pages by (generation, query), each built by one thread at a time."""

    def __init__(self):
        self.pages = OrderedDict()
        self.lock = threading.Lock()
        self.builds = {}  # key -> the lock its one builder holds

    def page(self, key, now, build):
        """The page for `key`, cached while fresh; else one thread builds it while the others wait for it,
        or, when only its age ran out, serve the old one."""
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
            # Also under the generation it was built at: releasing holds may have bumped it
            # meanwhile, and a newer page is right for whoever read an older one.
            self.put(key, built)
            self.put((built.generation, *key[1:]), built)
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
        settlement.before_a_read(now=now)
        generation = events.generation()  # after releasing, which bumps it
        next_lapse = tickets.next_lapse()
        shown, total = events.list_page(upcoming=upcoming, page=page, limit=limit, now=now)
        body = json.dumps(EVENTS.dump(shown), separators=(",", ":")).encode()
        return Page(body, total, generation, next_lapse, time.monotonic())

    built = cache.page((events.generation(), upcoming, page, limit), now, build)
    return built.body, built.total, built.etag


@dataclass
class KeptEvent:
    event: dict  # as shown
    generation: int
    next_lapse: datetime | None
    built: float

    fresh = Page.fresh


def event(event_id, *, now):
    """The event as `GET /events/<id>` shows it, lapsed holds released first; None when there is none."""
    kept = current_app.extensions.setdefault("events_kept", {})  # one per app and database
    entry = kept.get(event_id)
    if entry is not None and entry.generation == events.generation() and entry.fresh(now):
        return entry.event
    settlement.before_a_read(now=now, event_id=event_id)
    generation = events.generation()  # before reading: a write meanwhile makes the next request read again
    shown = events.get(event_id)
    if shown is not None:
        kept[event_id] = KeptEvent(shown, generation, tickets.next_lapse(), time.monotonic())
    return shown
