"""The event list, cached in each worker and kept correct across workers.

Listing 50 events costs a scan for lapsed holds, a query, a count and a dump; it is the
page every buyer loads during an on-sale rush. Each worker keeps the pages it rendered,
keyed by the events' version (`service.version()`, bumped after every write to an event),
so a page is served again only while no event changed anywhere, and only until the
earliest hold it counted may lapse (then the lapsed holds are released first, as on any
read of availability). One cheap read of the version per request replaces the rest; the
ETag is that version, so a browser's `If-None-Match` gets a 304. A page is also dropped
after `MAX_AGE`: `?upcoming=true` changes when time passes an event's start, with no
write, and data edited by hand in the database bumps nothing.
"""

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from ..tickets import service as tickets
from . import service
from .schemas import EventSchema

MAX_AGE = 5.0  # seconds
MAX_PAGES = 64
EVENTS = EventSchema(many=True)


@dataclass
class Page:
    body: bytes
    total: int
    next_lapse: datetime | None  # the earliest pending hold's expiry when it was built
    built: float

    def fresh(self, now):
        due = self.next_lapse is not None and self.next_lapse <= now
        return not due and time.monotonic() - self.built <= MAX_AGE


class PageCache:
    def __init__(self):
        self.pages = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key, now):
        with self.lock:
            page = self.pages.get(key)
            if page is None or not page.fresh(now):
                return None
            self.pages.move_to_end(key)
            return page

    def put(self, key, page):
        with self.lock:
            self.pages[key] = page
            while len(self.pages) > MAX_PAGES:
                self.pages.popitem(last=False)
        return page


def page(*, upcoming, page, limit, now):
    """(JSON body, total, weak ETag value) of one page of the event list."""
    cache = current_app.extensions.setdefault("event_pages", PageCache())  # one per app and database
    version = service.version()
    cached = cache.get((version, upcoming, page, limit), now)
    if cached is None:
        tickets.release_expired(now)
        version = service.version()  # releasing a hold bumps it
        next_lapse = tickets.next_lapse()
        events, total = service.list_page(upcoming=upcoming, page=page, limit=limit, now=now)
        body = json.dumps(EVENTS.dump(events), separators=(",", ":")).encode()
        cached = cache.put((version, upcoming, page, limit), Page(body, total, next_lapse, time.monotonic()))
    return cached.body, cached.total, f"events-{version}-{int(upcoming)}-{page}-{limit}"
