"""The `users` collection: the only code that reads or writes it."""

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from ..db import get_db, utcnow


class UserExists(Exception):
    """The email or the username belongs to someone already."""


def create(*, username, email, password_hash, role="user"):
    """Store a new user and return it.

    :raise UserExists: the email or username is taken (the unique indexes decide, so
        racing signups cannot both win).
    """
    now = utcnow()
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


def set_role(email, role):
    """Give the user with this email a role; return the updated user, or None if none has it."""
    return get_db().users.find_one_and_update(
        {"email": email.lower()},
        {"$set": {"role": role, "updatedAt": utcnow()}, "$inc": {"__v": 1}},
        return_document=ReturnDocument.AFTER,
    )
