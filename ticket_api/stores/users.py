"""The `users` collection: accounts, their password hashes and roles."""

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
    """Store a new user and return it. :raise UserExists: the email or username is taken (unique indexes)."""
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
    """Replace the hash `old_hash` by `new_hash`, noting `passwordChangedAt`. :return: whether done (not
    when the password changed meanwhile)."""
    changed = get_db().users.update_one(
        {"_id": user_id, "passwordHash": old_hash},
        {"$set": {"passwordHash": new_hash, "passwordChangedAt": now, "updatedAt": now}, "$inc": {"__v": 1}},
    )
    return changed.modified_count == 1


