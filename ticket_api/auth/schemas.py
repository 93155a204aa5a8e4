"""What signup and login accept, and what they show (never a password or its hash)."""

import marshmallow as ma

from ..schemas import DocumentSchema, Schema

USERNAME_PATTERN = r"^[A-Za-z0-9._-]{3,32}$"
PASSWORD_MIN_BYTES = 8
PASSWORD_MAX_BYTES = 72  # bcrypt reads no further: longer would be silently truncated


class LowercaseEmail(ma.fields.Email):
    """An email address, stored and compared lowercase."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).lower()


class Utf8Length(ma.validate.Validator):
    """Bounds on a string's size in UTF-8 bytes (what bcrypt counts), not in characters."""

    def __init__(self, min, max):
        self.min, self.max = min, max

    def __call__(self, value):
        if not self.min <= len(value.encode()) <= self.max:
            raise ma.ValidationError(f"Must be {self.min} to {self.max} bytes in UTF-8.")
        return value


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
    password = ma.fields.String(
        required=True,
        load_only=True,
        validate=Utf8Length(PASSWORD_MIN_BYTES, PASSWORD_MAX_BYTES),
        metadata={
            "example": "correct horse battery",
            "minLength": PASSWORD_MIN_BYTES,
            "maxLength": PASSWORD_MAX_BYTES,
            "description": "8 to 72 bytes in UTF-8 (bcrypt reads no further)",
        },
    )


class LoginSchema(Schema):
    email = LowercaseEmail(
        required=True, validate=ma.validate.Length(max=254), metadata={"example": "ada@example.com"}
    )
    password = ma.fields.String(
        required=True,
        load_only=True,
        validate=Utf8Length(1, PASSWORD_MAX_BYTES),
        metadata={"example": "correct horse battery", "minLength": 1, "maxLength": PASSWORD_MAX_BYTES},
    )


class UserSchema(DocumentSchema):
    username = ma.fields.String(dump_only=True)
    email = ma.fields.String(dump_only=True)
    role = ma.fields.String(dump_only=True, metadata={"enum": ["user", "admin"]})


class LoginResultSchema(Schema):
    message = ma.fields.String(metadata={"example": "Logged in"})
    success = ma.fields.Boolean(metadata={"example": True})
    token = ma.fields.String(metadata={"description": "Send as `Authorization: Bearer <token>`"})
    email = ma.fields.String()
    username = ma.fields.String()
