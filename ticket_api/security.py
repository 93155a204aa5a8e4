"""Passwords, tokens and roles: bcrypt hashing, JWT callbacks, revocation, `admin_required` and
`door_required` (docs/design.md, "Tokens and password stamps")."""

import time
from datetime import UTC, datetime, timedelta
from functools import wraps

import bcrypt
from bson import ObjectId
from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, get_jwt_identity, verify_jwt_in_request

from .errors import ApiError
from .stores import revoked_tokens, users
from .stores.users import ADMIN, DOOR, UserGone

ADMINS_ONLY = "Admins only"
DOOR_STAFF_ONLY = "Door staff and admins only"
MISSING_TOKEN = "Missing or malformed token"
TOKEN_REVOKED = "Token has been revoked"
PASSWORD_STAMP = "passwordChangedAt"  # the claim
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PUBLIC = []  # an operation's `security` in /openapi.json
BEARER_AUTH = [{"bearerAuth": []}]
OPTIONAL_BEARER_AUTH = [{}, {"bearerAuth": []}]
BEARER_SCHEME = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


def hash_password(password):
    rounds = current_app.config["BCRYPT_ROUNDS"]
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def password_matches(password, password_hash):
    return bcrypt.checkpw(password.encode(), password_hash.encode())


class TokenRevoked(ApiError):
    status_code, message, code = 401, TOKEN_REVOKED, "unauthorized"


def password_stamp(user):
    """When the user's password last changed, in whole milliseconds since 1970, or None if never."""
    return stamp(user.get("passwordChangedAt"))


def stamp(changed_at):
    return None if changed_at is None else (changed_at - EPOCH) // timedelta(milliseconds=1)


def issue_token(user):
    claims = {"role": user["role"], PASSWORD_STAMP: password_stamp(user)}
    return create_access_token(identity=str(user["_id"]), additional_claims=claims)


def issue_refresh_token(user):
    """A refresh token of the user, for `JWT_REFRESH_TOKEN_EXPIRES`: only `/auth/refresh` takes it."""
    return create_refresh_token(identity=str(user["_id"]), additional_claims={PASSWORD_STAMP: password_stamp(user)})


def check_password_unchanged(token_claims, user):
    """:raise TokenRevoked: the token was issued under another password than the user's now."""
    if token_claims.get(PASSWORD_STAMP) != password_stamp(user):
        raise TokenRevoked()


def well_formed(claims):
    """Whether a token's claims are as this service issues them; one that is not is invalid, never read further."""
    config = current_app.config
    longest = max(config["JWT_ACCESS_TOKEN_EXPIRES"], config["JWT_REFRESH_TOKEN_EXPIRES"])
    subject, expiry = claims.get("sub"), claims.get("exp")
    return (isinstance(subject, str) and ObjectId.is_valid(subject) and isinstance(claims.get("jti"), str)
            and isinstance(expiry, int) and expiry <= time.time() + longest + 60)


def revoke(token_claims):
    """Refuse this token from now on, everywhere: its id stays in the database until it expires."""
    revoked_tokens.revoke_token(token_claims["jti"], expires_at=datetime.fromtimestamp(token_claims["exp"], UTC))


def revoke_tokens_of_older_passwords(user_id, *, changed_at):
    """After a password change at `changed_at`: refuse the access tokens issued before, until they expire."""
    lifetime = timedelta(seconds=current_app.config["JWT_ACCESS_TOKEN_EXPIRES"])
    revoked_tokens.revoke_tokens_of_older_passwords(user_id, password_stamp=stamp(changed_at),
                                                expires_at=changed_at + lifetime)


def current_user():
    """The user of the request's (verified) token. :raise UserGone: deleted since."""
    user = users.get(get_jwt_identity())
    if user is None:
        raise UserGone()
    return user


def current_user_id():
    """The id in the request's (verified) token, without reading the user."""
    return ObjectId(get_jwt_identity())


def user_required(view):
    """Let the request through only with a valid token whose user still exists (else `UserGone`, 404)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        verify_jwt_in_request()
        current_user()
        return view(*args, **kwargs)

    return wrapper


def role_required(*roles, refusal):
    """A decorator: a valid token of a user whose role, read from the database now, is in `roles`; else 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request()
            if current_user()["role"] not in roles:
                raise ApiError(refusal, 403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


admin_required = role_required(ADMIN, refusal=ADMINS_ONLY)
door_required = role_required(DOOR, ADMIN, refusal=DOOR_STAFF_ONLY)  # checking tickets in, and nothing else

# What a route that takes a token answers before it runs, for its documentation (`bp.raises`).
TOKEN_REFUSALS = (ApiError(MISSING_TOKEN, 401), UserGone())
ADMIN_REFUSALS = (*TOKEN_REFUSALS, ApiError(ADMINS_ONLY, 403))
DOOR_REFUSALS = (*TOKEN_REFUSALS, ApiError(DOOR_STAFF_ONLY, 403))


def init_jwt(jwt):
    """Every token failure is a 401 `{"message": ..., "code": "unauthorized"}`; revoked tokens are refused."""

    def unauthorized(message):
        return ApiError(message, 401).body(), 401

    @jwt.token_verification_loader
    def names_a_user(jwt_header, jwt_payload):
        return well_formed(jwt_payload)

    @jwt.token_in_blocklist_loader
    def is_revoked(jwt_header, jwt_payload):
        """Revoked at logout; or an access token of a password changed since."""
        token_revoked, current_stamp = revoked_tokens.revocations(jwt_payload["jti"], jwt_payload["sub"])
        issued_under_older_password = (
            jwt_payload["type"] == "access" and current_stamp is not None
            and jwt_payload.get(PASSWORD_STAMP) != current_stamp
        )
        return token_revoked or issued_under_older_password

    jwt.unauthorized_loader(lambda reason: unauthorized(MISSING_TOKEN))
    jwt.invalid_token_loader(lambda reason: unauthorized("Invalid token"))
    jwt.expired_token_loader(lambda header, payload: unauthorized("Token has expired"))
    jwt.revoked_token_loader(lambda header, payload: unauthorized("Token has been revoked"))
    jwt.token_verification_failed_loader(lambda header, payload: unauthorized("Invalid token"))
    jwt.needs_fresh_token_loader(lambda header, payload: unauthorized("Fresh token required"))
    jwt.user_lookup_error_loader(lambda header, payload: unauthorized("User not found"))
