"""The event list, cached in each worker and kept correct across workers.

Listing 50 events costs a query, a count and a dump; it is the page every buyer loads
during an on-sale rush. Each worker keeps the pages it rendered, keyed by the events'
version (`service.version()`, bumped after every write to an event), so a page is
served again only while no event changed anywhere. One cheap read of the version per
request replaces the rest; the ETag is that version, so a browser's `If-None-Match`
gets a 304. A page is also dropped after `MAX_AGE`: `?upcoming=true` changes when time
passes an event's start, with no write, and an event edited by hand in the database
bumps nothing.
"""

import json
import threading
import time
from collections import OrderedDict

from flask import current_app

from . import service
from .schemas import EventSchema

MAX_AGE = 5.0  # seconds
MAX_PAGES = 64
EVENTS = EventSchema(many=True)


class PageCache:
    def __init__(self):
        self.pages = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            page = self.pages.get(key)
            if page is None or time.monotonic() - page[2] > MAX_AGE:
                return None
            self.pages.move_to_end(key)
            return page

    def put(self, key, body, total):
        with self.lock:
            self.pages[key] = (body, total, time.monotonic())
            while len(self.pages) > MAX_PAGES:
                self.pages.popitem(last=False)


def page(*, upcoming, page, limit, now):
    """(JSON body, total, weak ETag value) of one page of the event list."""
    cache = current_app.extensions.setdefault("event_pages", PageCache())  # one per app and database
    version = service.version()
    key = (version, upcoming, page, limit)
    cached = cache.get(key)
    if cached is None:
        events, total = service.list_page(upcoming=upcoming, page=page, limit=limit, now=now)
        cached = (json.dumps(EVENTS.dump(events), separators=(",", ":")).encode(), total)
        cache.put(key, *cached)
    body, total = cached[0], cached[1]
    return body, total, f"events-{version}-{int(upcoming)}-{page}-{limit}"
