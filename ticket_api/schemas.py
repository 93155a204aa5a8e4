"""What every schema shares: unknown fields dropped, text free of control characters,
integers that fit in 64 bits, Mongoose-shaped ids, times and versions."""

import re
from datetime import UTC

import marshmallow as ma
from bson import ObjectId
from bson.errors import InvalidId

# C0 and C1 control characters and DEL: never in a name, a token or an email; a
# `multiline` field (a description) may hold tabs and line breaks.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_CHARACTERS_BUT_LINE_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class PlainText(ma.validate.Validator):
    """Refuse control characters (and lone UTF-16 surrogates, which no UTF-8 text can hold)."""

    def __init__(self, multiline=False):
        self.refused = CONTROL_CHARACTERS_BUT_LINE_BREAKS if multiline else CONTROL_CHARACTERS
        self.error = "No control characters." if not multiline else "No control characters but tabs and line breaks."

    def __call__(self, value):
        if self.refused.search(value):
            raise ma.ValidationError(self.error)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ma.ValidationError("Not valid Unicode text (a lone surrogate).") from error
        return value


class Schema(ma.Schema):
    """Base schema: unknown fields are ignored, never stored, and text refuses control characters
    (but tabs and line breaks where the metadata says `"multiline": True`)."""

    class Meta:
        unknown = ma.EXCLUDE

    def on_bind_field(self, field_name, field_obj):
        if isinstance(field_obj, ma.fields.String) and not field_obj.dump_only:
            # A new list: the field is a shallow copy of the class's, its list shared with it.
            field_obj.validators = [*field_obj.validators,
                                    PlainText(multiline=field_obj.metadata.get("multiline", False))]


class ObjectIdField(ma.fields.Field):
    """An ObjectId, as its 24-hex string in JSON."""

    default_error_messages = {"invalid": "Not a valid id."}

    def __init__(self, **kwargs):
        metadata = {"pattern": "^[0-9a-fA-F]{24}$", "example": "6b06d3c37bbe849cee143ee7"}
        super().__init__(**{**kwargs, "metadata": {**metadata, **kwargs.get("metadata", {})}})

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            return ObjectId(value)
        except InvalidId as error:
            raise self.make_error("invalid") from error


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class StrictInteger(ma.fields.Integer):
    """A JSON integer, never converted from `"2"`, `2.5` or `true`, within MongoDB's 64 bits."""

    default_error_messages = {"int64": "Must be between -2**63 and 2**63 - 1."}

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        value = super()._validated(value)
        if not INT64_MIN <= value <= INT64_MAX:
            raise self.make_error("int64")
        return value


def utc_text(value):
    """A datetime the way a Mongoose backend shows it: `2026-12-01T20:00:00.000Z` (None: None)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class UtcDateTime(ma.fields.DateTime):
    """A datetime shown as `utc_text` shows it."""

    def _serialize(self, value, attr, obj, **kwargs):
        return utc_text(value)


class UtcInput(ma.fields.AwareDateTime):
    """An ISO 8601 time with any offset (none: UTC), read as UTC; invalid if its UTC is past year 9999."""

    def __init__(self, **kwargs):
        super().__init__(default_timezone=UTC, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        when = super()._deserialize(value, attr, data, **kwargs)
        try:
            return when.astimezone(UTC)
        except OverflowError:
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None


class ReplySchema(Schema):
    """What the service answers: every field in every reply, `required` in `/openapi.json` unless its
    metadata says `"x-optional": True`, each with an `example` (Swagger UI would invent one)."""

    def on_bind_field(self, field_name, field_obj):
        super().on_bind_field(field_name, field_obj)
        field_obj.required = not field_obj.metadata.get("x-optional", False)


class DocumentSchema(ReplySchema):
    """The fields every stored document shows: `_id`, `createdAt`, `updatedAt`, `__v`."""

    id = ObjectIdField(data_key="_id", attribute="_id", dump_only=True)
    createdAt = UtcDateTime(dump_only=True)
    updatedAt = UtcDateTime(dump_only=True)
    version = ma.fields.Integer(data_key="__v", attribute="__v", dump_only=True, metadata={"example": 0})


class MessageSchema(ReplySchema):
    message = ma.fields.String()


PAGE_RANGE = ma.validate.Range(min=1, max=1_000_000)
LIMIT_RANGE = ma.validate.Range(min=1, max=500)
DEFAULT_PAGE, DEFAULT_LIMIT = 1, 100


class PageQuerySchema(Schema):
    """`?page=` (1-based) and `?limit=` of a list; the total is in `X-Total-Count`."""

    page = ma.fields.Integer(load_default=DEFAULT_PAGE, validate=PAGE_RANGE)
    limit = ma.fields.Integer(load_default=DEFAULT_LIMIT, validate=LIMIT_RANGE)


TOTAL_COUNT_HEADER = {
    "X-Total-Count": {
        "description": "How many items there are in all pages",
        "schema": {"type": "integer"},
    }
}
