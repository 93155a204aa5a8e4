from flask import current_app, request
from flask_jwt_extended import decode_token, jwt_required
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_limiter.util import get_remote_address
from flask_smorest import abort
from jwt import InvalidTokenError

from .. import security, tickets
from ..db import utcnow
from ..errors import ApiError
from ..extensions import Blueprint, limiter
from ..sales import settlement
from ..schemas import TOTAL_COUNT_HEADER, MessageSchema
from ..tickets.schemas import TicketSchema
from . import failed_logins, store
from .schemas import LoginResultSchema, LoginSchema, MyTicketsQuerySchema, SignupSchema, UserSchema, is_reserved

bp = Blueprint("auth", __name__, url_prefix="/auth", description="Accounts and tokens")

USER_EXISTS = "User already exists"
USER_NOT_FOUND = store.UserGone.message
INVALID_CREDENTIALS = "Invalid credentials"
RATE_LIMITED = "Too many requests (10 per 1 minute); try again later"


class UsernameReserved(ApiError):
    status_code, message, code = 409, "This username is reserved", "username_reserved"


@bp.route("/signup", methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_SIGNUP"])
@bp.arguments(SignupSchema)
@bp.response(201, UserSchema)
@bp.error(409, USER_EXISTS, f"{USER_EXISTS}; or `{UsernameReserved.code}`: a name staff use")
@bp.error(429, RATE_LIMITED, "Too many signups from this address; see `Retry-After`")
def signup(fields):
    """Create an account (role `user`)."""
    if is_reserved(fields["username"]):
        raise UsernameReserved()
    password_hash = security.hash_password(fields.pop("password"))
    try:
        return store.create(password_hash=password_hash, now=utcnow(), **fields)
    except store.UserExists:
        abort(409, message=USER_EXISTS)


@bp.route("/login", methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"])
@bp.arguments(LoginSchema)
@bp.response(201, LoginResultSchema)
@bp.error(400, INVALID_CREDENTIALS)
@bp.error(404, USER_NOT_FOUND)
@bp.error(429, RATE_LIMITED, "Too many logins from this address or for this email; see `Retry-After`")
def login(credentials):
    """Exchange email and password for a bearer token."""
    attempt = failed_logins.count(credentials["email"], get_remote_address(), now=utcnow())
    user = store.get_by_email(credentials["email"])
    if user is None:
        abort(404, message=USER_NOT_FOUND)
    if not security.password_matches(credentials["password"], user["passwordHash"]):
        abort(400, message=INVALID_CREDENTIALS)
    attempt.forget()
    return {
        "message": "Logged in",
        "success": True,
        "token": security.issue_token(user),
        "email": user["email"],
        "username": user["username"],
    }


@bp.route("/logout", methods=["POST"])
@bp.response(200, MessageSchema)
@bp.doc(security=security.OPTIONAL_BEARER_AUTH)
def logout():
    """Log out: the token sent, if any and still valid, is revoked for good."""
    claims = presented_token_claims()
    if claims is not None:
        security.revoke(claims)
    return {"message": "Logged out"}


def presented_token_claims():
    """The claims of the bearer token sent, or None when there is none worth revoking.

    Logout always succeeds (the seed's frontend calls it bare): an expired, revoked or
    forged token has nothing left to revoke.
    """
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        return decode_token(token.strip())
    except (InvalidTokenError, JWTExtendedException):
        return None


@bp.route("/tickets")
@jwt_required()
@bp.arguments(MyTicketsQuerySchema, location="query")
@bp.response(200, TicketSchema(many=True), headers=TOTAL_COUNT_HEADER)
@bp.error(401, security.MISSING_TOKEN)
@bp.error(404, USER_NOT_FOUND)
@bp.doc(security=security.BEARER_AUTH)
def my_tickets(page):
    """The caller's own tickets, newest first, each with its event: all of them, or a
    page with `?page`/`?limit`."""
    user = security.current_user()
    settlement.release_lapsed_holds(now=utcnow())
    owned = tickets.store.list_for_user(user["_id"], **page)
    total = tickets.store.count_for_user(user["_id"]) if page else len(owned)
    return owned, 200, {"X-Total-Count": str(total)}
