from flask import current_app, g, request
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
from ..schemas import MessageSchema
from ..tickets.schemas import TicketSchema
from . import store
from .schemas import LoginResultSchema, LoginSchema, SignupSchema, UserSchema, is_reserved, normalized_email

bp = Blueprint("auth", __name__, url_prefix="/auth", description="Accounts and tokens")

USER_EXISTS = "User already exists"
USER_NOT_FOUND = store.UserGone.message
INVALID_CREDENTIALS = "Invalid credentials"
RATE_LIMITED = "Too many requests (10 per 1 minute); try again later"


class UsernameReserved(ApiError):
    status_code, message, code = 409, "This username is reserved", "username_reserved"


def login_email():
    """The email a login is for, spelled as it is stored: the key of its failed-login
    limits (None when it is no valid email: such a login fails validation, and counts
    against the address alone)."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    try:
        return normalized_email(email.strip()) if isinstance(email, str) else None
    except ValueError:
        return None


def login_failed(response):
    """Whether this login was refused for its credentials (unknown email, wrong password):
    only those count against the email's limits, so logging in never locks anyone out."""
    return g.get("login_failed", False)


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
@limiter.limit(
    lambda: current_app.config["RATELIMIT_LOGIN_EMAIL"],
    key_func=lambda: f"login:{login_email()}:{get_remote_address()}",
    exempt_when=lambda: login_email() is None,
    deduct_when=login_failed,
)
@limiter.limit(
    lambda: current_app.config["RATELIMIT_LOGIN_EMAIL_ANY_ADDRESS"],
    key_func=lambda: f"login:{login_email()}",
    exempt_when=lambda: login_email() is None,
    deduct_when=login_failed,
)
@bp.arguments(LoginSchema)
@bp.response(201, LoginResultSchema)
@bp.error(400, INVALID_CREDENTIALS)
@bp.error(404, USER_NOT_FOUND)
@bp.error(429, RATE_LIMITED, "Too many logins from this address or for this email; see `Retry-After`")
def login(credentials):
    """Exchange email and password for a bearer token."""
    user = store.get_by_email(credentials["email"])
    g.login_failed = user is None or not security.password_matches(credentials["password"], user["passwordHash"])
    if user is None:
        abort(404, message=USER_NOT_FOUND)
    if g.login_failed:
        abort(400, message=INVALID_CREDENTIALS)
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
@bp.response(200, TicketSchema(many=True))
@bp.error(401, security.MISSING_TOKEN)
@bp.error(404, USER_NOT_FOUND)
@bp.doc(security=security.BEARER_AUTH)
def my_tickets():
    """The caller's own tickets, newest first, each with its event."""
    user = security.current_user()
    settlement.release_lapsed_holds(now=utcnow())
    return tickets.store.list_for_user(user["_id"])
