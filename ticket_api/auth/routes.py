from flask import current_app, request
from flask_jwt_extended import decode_token, get_jwt, jwt_required
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_limiter.util import get_remote_address
from jwt import InvalidTokenError

from .. import security
from ..db import utcnow
from ..errors import ApiError
from ..extensions import Blueprint, limiter
from ..sales import settlement
from ..schemas import TOTAL_COUNT_HEADER, MessageSchema
from ..stores import tickets, users
from ..tickets.schemas import TicketSchema
from . import failed_logins
from .schemas import (
    LoginResultSchema,
    LoginSchema,
    LogoutSchema,
    MyTicketsQuerySchema,
    PasswordChangeSchema,
    SignupSchema,
    TokenSchema,
    UserSchema,
    is_reserved,
)

bp = Blueprint("auth", __name__, url_prefix="/auth", description="Accounts and tokens")

RATE_LIMITED = "Too many requests (10 per 1 minute); try again later"
LOGGED_OUT, PASSWORD_CHANGED = {"message": "Logged out"}, {"message": "Password changed"}


class UserTaken(ApiError):
    status_code, message, code = 409, "User already exists", "user_exists"


class UsernameReserved(ApiError):
    status_code, message, code = 409, "This username is reserved", "username_reserved"


class UnknownEmail(users.UserGone):
    """A login for an email nobody signed up with: answered as a deleted user is."""


class InvalidCredentials(ApiError):
    status_code, message, code = 400, "Invalid credentials", "invalid_credentials"


@bp.route("/signup", methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_SIGNUP"])
@bp.arguments(SignupSchema)
@bp.response(201, UserSchema)
@bp.raises(UserTaken, UsernameReserved)
@bp.error(429, RATE_LIMITED, "Too many signups from this address; see `Retry-After`")
@bp.doc(operationId="signup", security=security.PUBLIC)
def signup(fields):
    """Create a buyer's account."""
    if is_reserved(fields["username"]):
        raise UsernameReserved()
    password_hash = security.hash_password(fields.pop("password"))
    try:
        return users.create(password_hash=password_hash, now=utcnow(), **fields)
    except users.UserExists:
        raise UserTaken() from None


@bp.route("/login", methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"])
@bp.arguments(LoginSchema)
@bp.response(201, LoginResultSchema)
@bp.raises(InvalidCredentials)
@bp.raises(UnknownEmail, description="No account has this email")
@bp.error(429, RATE_LIMITED, "Too many logins from this address or for this email; see `Retry-After`")
@bp.doc(operationId="login", security=security.PUBLIC)
def login(credentials):
    """Exchange email and password for an access token and a refresh token."""
    attempt = failed_logins.count(credentials["email"], get_remote_address(), now=utcnow())
    user = users.get_by_email(credentials["email"])
    if user is None:
        raise UnknownEmail()
    if not security.password_matches(credentials["password"], user["passwordHash"]):
        raise InvalidCredentials()
    attempt.forget()
    return {
        "message": "Logged in",
        "success": True,
        "token": security.issue_token(user),
        "refreshToken": security.issue_refresh_token(user),
        "email": user["email"],
        "username": user["username"],
        "role": user["role"],
    }


@bp.route("/logout", methods=["POST"])
@bp.arguments(LogoutSchema, required=False)
@bp.response(200, MessageSchema, example=LOGGED_OUT)
@bp.doc(operationId="logout", security=security.OPTIONAL_BEARER_AUTH)
def logout(fields):
    """Log out, for good.

    The token sent, if any and still valid, is revoked; so is the `refreshToken` sent, if
    valid and the same user's (or sent alone). Always 200.
    """
    presented = claims_of(bearer_token())
    sent = claims_of(fields.get("refreshToken"))
    if presented is not None:
        security.revoke(presented)
    if sent is not None and (presented is None or sent["sub"] == presented["sub"]):
        security.revoke(sent)
    return LOGGED_OUT


def bearer_token():
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def claims_of(token):
    """The claims of a token worth revoking, or None (logout always succeeds: a bad token has none)."""
    if not token:
        return None
    try:
        claims = decode_token(token)
    except (InvalidTokenError, JWTExtendedException):
        return None
    return claims if security.well_formed(claims) else None


@bp.route("/refresh", methods=["POST"])
@jwt_required(refresh=True)
@bp.response(201, TokenSchema)
@bp.error(401, security.TOKEN_REVOKED, "Expired, revoked, not a refresh token, or issued before the password changed")
@bp.raises(users.UserGone)
@bp.doc(operationId="refreshToken", security=security.BEARER_AUTH)
def refresh():
    """Exchange the refresh token sent as the bearer token for a new access token."""
    user = security.current_user()
    security.check_password_unchanged(get_jwt(), user)
    return {"token": security.issue_token(user)}


@bp.route("/me")
@jwt_required()
@bp.response(200, UserSchema)
@bp.raises(*security.TOKEN_REFUSALS)
@bp.doc(operationId="getMe", security=security.BEARER_AUTH)
def me():
    """The caller's own account."""
    return security.current_user()


@bp.route("/password", methods=["POST"])
@jwt_required()
@bp.arguments(PasswordChangeSchema)
@bp.response(200, MessageSchema, example=PASSWORD_CHANGED)
@bp.raises(InvalidCredentials, description="The current password is wrong")
@bp.raises(*security.TOKEN_REFUSALS)
@bp.error(429, RATE_LIMITED, "Too many wrong passwords for this account (counted with failed logins)")
@bp.doc(operationId="changePassword", security=security.BEARER_AUTH)
def change_password(fields):
    """Change the caller's password.

    Every token issued before is refused from now on, this one too: log in again with the
    new password. Wrong current passwords count as failed logins of the account's email,
    so a stolen token cannot guess the password faster than a login could.
    """
    user = security.current_user()
    now = utcnow()
    attempt = failed_logins.count(user["email"], get_remote_address(), now=now)
    if not security.password_matches(fields["currentPassword"], user["passwordHash"]):
        raise InvalidCredentials()
    attempt.forget()
    new_hash = security.hash_password(fields["newPassword"])
    if not users.change_password(user["_id"], old_hash=user["passwordHash"], new_hash=new_hash, now=now):
        raise InvalidCredentials()  # changed meanwhile: the password given is no longer the current one
    security.revoke_tokens_of_older_passwords(user["_id"], changed_at=now)
    return PASSWORD_CHANGED


@bp.route("/tickets")
@jwt_required()
@bp.arguments(MyTicketsQuerySchema, location="query")
@bp.response(200, TicketSchema(many=True), headers=TOTAL_COUNT_HEADER)
@bp.raises(*security.TOKEN_REFUSALS)
@bp.doc(operationId="listMyTickets", security=security.BEARER_AUTH)
def my_tickets(page):
    """List the caller's own tickets.

    Newest first, each with its event: all of them, or a page with `page` and `limit`.
    """
    user = security.current_user()
    settlement.before_a_read(now=utcnow())
    owned = tickets.list_for_user(user["_id"], **page)
    total = tickets.count_for_user(user["_id"]) if page else len(owned)
    return owned, 200, {"X-Total-Count": str(total)}
