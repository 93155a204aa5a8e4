"""The `revoked_tokens` collection: token ids revoked at logout, and per user the stamp of
the password whose older access tokens are refused; each kept until it would expire."""

from ..db import get_db


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
