"""The `checkins` collection: every scan at the door, for an event's recent scans (never a decision)."""

from ..db import get_db

RECENT = 20


def record(*, event_id, ticket_id, quantity, result, by, scan_id, now):
    """A scan made for the event by the account `by`: `result` is `admitted` or the refusal's code."""
    get_db().checkins.insert_one({"event": event_id, "ticket": ticket_id, "quantity": quantity, "result": result,
                                  "at": now, "by": by, "scanId": scan_id})


def recent(event_id, limit=RECENT):
    """The event's last `limit` scans, newest first."""
    return list(get_db().checkins.find({"event": event_id}).sort([("at", -1), ("_id", -1)]).limit(limit))
