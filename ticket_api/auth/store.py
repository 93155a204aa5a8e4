"""The `users`, `revoked_tokens` and `login_attempts` collections: the only code that reads or writes them."""

from bson import ObjectId
from bson.errors import InvalidId
from pymongo.errors import DuplicateKeyError

from ..db import get_db
from ..errors import ApiError

ADMIN = "admin"
DOOR = "door"
USER = "user"
ROLES = (USER, DOOR, ADMIN)  # set by an operator (`flask set-role`), never through the API


class UserExists(Exception):
    """The email or the username belongs to someone already."""


class UserGone(ApiError):
    """A valid token whose user has been deleted since."""

    status_code, message, code = 404, "User not found", "user_not_found"


def create(*, username, email, password_hash, now, role=USER):
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


def role_of(user_id):
    """The user's role as stored now; None when there is no such user."""
    user = get_db().users.find_one({"_id": user_id}, {"role": 1})
    return user and user["role"]


def get_by_email(email):
    return get_db().users.find_one({"email": email.lower()})


def set_role(email, role, *, now):
    """Give the user with this email a role; return the updated user, or None if none has it."""
    changed = get_db().users.update_one(
        {"email": email.lower()}, {"$set": {"role": role, "updatedAt": now}, "$inc": {"__v": 1}})
    return get_by_email(email) if changed.matched_count else None


def change_password(user_id, *, old_hash, new_hash, now):
    """Replace the password hash `old_hash` of this user by `new_hash`, noting when
    (`passwordChangedAt`); return whether it was done.

    Conditional on the hash the current password was checked against: a change that
    happened meanwhile (the password given is no longer the current one) makes this a no-op.
    """
    changed = get_db().users.update_one(
        {"_id": user_id, "passwordHash": old_hash},
        {"$set": {"passwordHash": new_hash, "passwordChangedAt": now, "updatedAt": now}, "$inc": {"__v": 1}},
    )
    return changed.modified_count == 1


def revoke_token(token_id, *, expires_at):
    """Refuse this token id from now on; the record lapses when the token would have expired."""
    get_db().revoked_tokens.update_one({"_id": token_id}, {"$setOnInsert": {"expiresAt": expires_at}}, upsert=True)


def password_record_id(user_id):
    return f"password:{user_id}"


def revoke_tokens_of_older_passwords(user_id, *, password_stamp, expires_at):
    """Refuse the user's access tokens issued under a password older than the one stamped
    `password_stamp`, until `expires_at` (when the last of them has expired anyway).

    `$max`: of two changes recorded out of order, the newer one stays.
    """
    get_db().revoked_tokens.update_one(
        {"_id": password_record_id(user_id)},
        {"$max": {"passwordStamp": password_stamp, "expiresAt": expires_at}},
        upsert=True,
    )


def revocations(token_id, user_id):
    """What is revoked of a token, in one read: `(token revoked, the stamp of the user's
    current password when access tokens of older ones are refused, else None)`."""
    token_revoked, password_stamp = False, None
    ids = [token_id, password_record_id(user_id)]
    for record in get_db().revoked_tokens.find({"_id": {"$in": ids}}):
        if record["_id"] == token_id:
            token_revoked = True
        else:
            password_stamp = record["passwordStamp"]
    return token_revoked, password_stamp


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
