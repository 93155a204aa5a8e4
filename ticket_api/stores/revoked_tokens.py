"""The `revoked_tokens` collection: tokens revoked at logout, and per user the stamp of older passwords."""

from ..db import get_db


def revoke_token(token_id, *, expires_at):
    """Refuse this token id until it would have expired."""
    get_db().revoked_tokens.update_one({"_id": token_id}, {"$setOnInsert": {"expiresAt": expires_at}}, upsert=True)


def password_record_id(user_id):
    return f"password:{user_id}"


def revoke_tokens_of_older_passwords(user_id, *, password_stamp, expires_at):
    """Refuse the user's access tokens of passwords older than `password_stamp`, until `expires_at`
    (`$max`: of two changes recorded out of order, the newer stays)."""
    get_db().revoked_tokens.update_one(
        {"_id": password_record_id(user_id)},
        {"$max": {"passwordStamp": password_stamp, "expiresAt": expires_at}},
        upsert=True,
    )


def revocations(token_id, user_id):
    """`(token revoked, the user's current password stamp if older ones are refused, else None)`, in one read."""
    token_revoked, password_stamp = False, None
    ids = [token_id, password_record_id(user_id)]
    for record in get_db().revoked_tokens.find({"_id": {"$in": ids}}):
        if record["_id"] == token_id:
            token_revoked = True
        else:
            password_stamp = record["passwordStamp"]
    return token_revoked, password_stamp
