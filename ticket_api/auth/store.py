"""The `users`, `revoked_tokens` and `login_attempts` collections: the only code that reads or writes them."""

from bson import ObjectId
from bson.errors import InvalidId
from pymongo.errors import DuplicateKeyError

from ..db import get_db
from ..errors import ApiError


class UserExists(Exception):
    """The email or the username belongs to someone already."""


class UserGone(ApiError):
    """A valid token whose user has been deleted since."""

    status_code, message, code = 404, "User not found", "user_not_found"


def create(*, username, email, password_hash, now, role="user"):
    """Store a new user and return it.

    :raise UserExists: the email or username is taken (the unique indexes decide, so
        racing signups cannot both win).
    """
    user = {
        "username": username,
        "email": email,
        "passwordHash": password_hash,
        "role": role,
        "createdAt": now,
        "updatedAt": now,
        "__v": 0,
    }
    try:
        get_db().users.insert_one(user)
    except DuplicateKeyError as error:
        raise UserExists from error
    return user


def get(user_id):
    """The user with this id (an ObjectId or its string), or None."""
    try:
        return get_db().users.find_one({"_id": ObjectId(user_id)})
    except (InvalidId, TypeError):
        return None


def get_by_email(email):
    return get_db().users.find_one({"email": email.lower()})


def set_role(email, role, *, now):
    """Give the user with this email a role; return the updated user, or None if none has it."""
    get_db().users.update_one(
        {"email": email.lower()}, {"$set": {"role": role, "updatedAt": now}, "$inc": {"__v": 1}}
    )
    return get_by_email(email)


def revoke_token(token_id, *, expires_at):
    """Refuse this token id from now on; the record lapses when the token would have expired."""
    get_db().revoked_tokens.update_one({"_id": token_id}, {"$setOnInsert": {"expiresAt": expires_at}}, upsert=True)


def is_revoked(token_id):
    return get_db().revoked_tokens.find_one({"_id": token_id}) is not None


def count_login_attempt(key, *, limit, window, now):
    """Count a login attempt against `key` unless `limit` attempts already fall within
    `window` before `now`; return the attempt's id (to `forget_login_attempt` it if it
    succeeds), or None when the limit is reached.

    One conditional write decides, so attempts sent all at once cannot pass the limit:
    the document keeps the newest `limit` attempts, and the write matches only while the
    oldest of them has left the window (or there are fewer).
    """
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
