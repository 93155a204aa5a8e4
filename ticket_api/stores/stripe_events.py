"""The `stripe_events` collection: the ids of webhook events already handled."""

from contextlib import suppress

from pymongo.errors import DuplicateKeyError

from ..db import get_db


def event_handled(event_id):
    return get_db().stripe_events.find_one({"_id": event_id}, {"_id": 1}) is not None


def mark_event_handled(event_id, event_type, *, now):
    """Remember a webhook event as handled (delivered twice at once: handled twice, harmlessly)."""
    with suppress(DuplicateKeyError):
        get_db().stripe_events.insert_one({"_id": event_id, "type": event_type, "handledAt": now})
