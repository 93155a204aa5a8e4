"""The `idempotency_keys` collection: a client's key, its request's fingerprint and the reply kept."""

from pymongo.errors import DuplicateKeyError

from ..db import get_db
from ..errors import MAX_ATTEMPTS, KeptChanging


def claim_key(key_id, fingerprint, *, now, keep_for):
    """Claim the key for a request, dropping a claim older than `keep_for`. :return: None when this
    call claimed it, else the stored record (without `status` while its request runs)."""
    keys = get_db().idempotency_keys
    keys.delete_one({"_id": key_id, "createdAt": {"$lte": now - keep_for}})
    for _ in range(MAX_ATTEMPTS):  # a stored record is deleted when its request fails: then claim it anew
        try:
            keys.insert_one({"_id": key_id, "fingerprint": fingerprint, "createdAt": now})
            return None
        except DuplicateKeyError:
            stored = keys.find_one({"_id": key_id})
        if stored is not None:
            return stored
    raise KeptChanging(f"idempotency key {key_id}: claimed and dropped {MAX_ATTEMPTS} times in a row")


def keep_reply(key_id, status, body):
    get_db().idempotency_keys.update_one({"_id": key_id}, {"$set": {"status": status, "body": body}})


def drop_key(key_id):
    get_db().idempotency_keys.delete_one({"_id": key_id})
