"""What the auth routes accept, and what they show (never a password or its hash)."""


import marshmallow as ma

from ..emails import LowercaseEmail
from ..schemas import DEFAULT_LIMIT, DEFAULT_PAGE, LIMIT_RANGE, PAGE_RANGE, DocumentSchema, ReplySchema, Schema

USERNAME_PATTERN = r"^[A-Za-z0-9._-]{3,32}$"
PASSWORD_MIN_BYTES = 8
PASSWORD_MAX_BYTES = 72  # bcrypt reads no further: longer would be silently truncated
# Names a buyer could pass for venue staff or the service itself with: refused in any case
# and with any '.', '_' or '-' added or left out ("Admin", "ticket-api", "ad.min").
RESERVED_USERNAMES = {"admin", "administrator", "root", "staff", "door", "support", "system", "ticket_api"}
SEPARATORS = str.maketrans("", "", "._-")
ROLES = ["user", "door", "admin"]


def is_reserved(username):
    bare = username.lower().translate(SEPARATORS)
    return any(bare == name.translate(SEPARATORS) for name in RESERVED_USERNAMES)


class Utf8Length(ma.validate.Validator):
    """Bounds on a string's size in UTF-8 bytes (what bcrypt counts), not in characters."""

    def __init__(self, min, max):
        self.min, self.max = min, max

    def __call__(self, value):
        if not self.min <= len(value.encode()) <= self.max:
            raise ma.ValidationError(f"Must be {self.min} to {self.max} bytes in UTF-8.")
        return value


def new_password(**metadata):
    """A password as signup takes it."""
    return ma.fields.String(
        required=True,
        load_only=True,
        validate=Utf8Length(PASSWORD_MIN_BYTES, PASSWORD_MAX_BYTES),
        metadata={
            "example": "correct horse battery",
            "minLength": PASSWORD_MIN_BYTES,
            "maxLength": PASSWORD_MAX_BYTES,
            "description": "8 to 72 bytes in UTF-8 (bcrypt reads no further)",
            "multiline": True,  # existing passwords may hold tabs and line breaks: refusing them would lock people out
            **metadata,
        },
    )


def current_password():
    """A password as login takes it: any the account may have."""
    return ma.fields.String(
        required=True,
        load_only=True,
        validate=Utf8Length(1, PASSWORD_MAX_BYTES),
        metadata={"example": "correct horse battery", "minLength": 1, "maxLength": PASSWORD_MAX_BYTES,
                  "multiline": True},
    )


class SignupSchema(Schema):
    username = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(
            USERNAME_PATTERN, error="3 to 32 characters: letters, digits, '.', '_' or '-'."
        ),
        metadata={"example": "ada"},
    )
    email = LowercaseEmail(
        required=True, validate=ma.validate.Length(max=254), metadata={"example": "ada@example.com"}
    )
    password = new_password()


class LoginSchema(Schema):
    email = LowercaseEmail(
        required=True, validate=ma.validate.Length(max=254), metadata={"example": "ada@example.com"}
    )
    password = current_password()


# A token's shape (a JWT: header, claims and signature), for the document's examples.
TOKEN_EXAMPLE = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI2YjA2ZDNjMzdiYmU4NDljZWUxNDNlZTcifQ.c2lnbmF0dXJl"


class UserSchema(DocumentSchema):
    username = ma.fields.String(dump_only=True, metadata={"example": "ada"})
    email = ma.fields.String(dump_only=True, metadata={"example": "ada@example.com"})
    role = ma.fields.String(dump_only=True, metadata={"enum": ROLES})


class LoginResultSchema(ReplySchema):
    message = ma.fields.String(metadata={"example": "Logged in"})
    success = ma.fields.Boolean(metadata={"example": True})
    token = ma.fields.String(metadata={"description": "Send as `Authorization: Bearer <token>`",
                                       "example": TOKEN_EXAMPLE})
    refreshToken = ma.fields.String(
        metadata={"description": "Send as `Authorization: Bearer <refreshToken>` to `POST /auth/refresh` only",
                  "example": TOKEN_EXAMPLE}
    )
    email = ma.fields.String(metadata={"example": "ada@example.com"})
    username = ma.fields.String(metadata={"example": "ada"})
    role = ma.fields.String(metadata={"enum": ROLES})


class TokenSchema(ReplySchema):
    token = ma.fields.String(metadata={"description": "A new access token", "example": TOKEN_EXAMPLE})


class LogoutSchema(Schema):
    refreshToken = ma.fields.String(
        allow_none=True, metadata={"description": "Revoked too, when it is valid and the same user's"}
    )


class PasswordChangeSchema(Schema):
    currentPassword = current_password()
    newPassword = new_password(example="a new horse battery")


class MyTicketsQuerySchema(Schema):
    """`?page` and `?limit` as for every list, but without either, every ticket: the seed's
    frontend reads the whole list."""

    page = ma.fields.Integer(validate=PAGE_RANGE, metadata={"description": "1-based; default 1 when `limit` is set"})
    limit = ma.fields.Integer(validate=LIMIT_RANGE, metadata={"description": "default 100 when `page` is set"})

    @ma.post_load
    def page_or_all(self, query, **kwargs):
        """`{}` for every ticket, else both `page` and `limit`."""
        return {"page": DEFAULT_PAGE, "limit": DEFAULT_LIMIT, **query} if query else {}
