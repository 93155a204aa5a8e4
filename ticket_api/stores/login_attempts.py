"""The `login_attempts` collection: the newest failed logins per key, for the lockout."""

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from ..db import get_db


def count_login_attempt(key, *, limit, window, now):
    """Count an attempt against `key` unless `limit` attempts fall within `window` already, in one
    conditional write. :return: the attempt's id (to forget it on success), or None at the limit."""
    attempt = ObjectId()
    try:
        get_db().login_attempts.update_one(
            {"_id": key, f"attempts.{limit - 1}.at": {"$not": {"$gt": now - window}}},
            {
                "$push": {"attempts": {"$each": [{"id": attempt, "at": now}], "$position": 0, "$slice": limit}},
                "$set": {"expiresAt": now + window},
            },
            upsert=True,
        )
    except DuplicateKeyError:  # the filter did not match, so the upsert met the existing key
        return None
    return attempt


def login_attempts_free_at(key, *, limit, window):
    """When the oldest of the `limit` attempts counted against `key` leaves the window."""
    counted = get_db().login_attempts.find_one({"_id": key}, {"attempts": {"$slice": [limit - 1, 1]}})
    attempts = counted["attempts"] if counted else []
    return attempts[0]["at"] + window if attempts else None


def forget_login_attempt(key, attempt):
    get_db().login_attempts.update_one({"_id": key}, {"$pull": {"attempts": {"id": attempt}}})
