"""What every schema shares: unknown fields dropped, Mongoose-shaped ids, times and versions."""

from datetime import UTC

import marshmallow as ma
from bson import ObjectId
from bson.errors import InvalidId


class Schema(ma.Schema):
    """Base schema: unknown fields are ignored and never stored (no mass assignment)."""

    class Meta:
        unknown = ma.EXCLUDE


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


class StrictInteger(ma.fields.Integer):
    """A JSON integer: `"2"`, `2.5` and `true` are refused, never converted."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


class UtcDateTime(ma.fields.DateTime):
    """A datetime shown the way a Mongoose backend shows it: `2026-12-01T20:00:00.000Z`."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class DocumentSchema(Schema):
    """The fields every stored document shows: `_id`, `createdAt`, `updatedAt`, `__v`."""

    id = ObjectIdField(data_key="_id", attribute="_id", dump_only=True)
    createdAt = UtcDateTime(dump_only=True)
    updatedAt = UtcDateTime(dump_only=True)
    version = ma.fields.Integer(data_key="__v", attribute="__v", dump_only=True)


class MessageSchema(Schema):
    message = ma.fields.String(required=True)


class PageQuerySchema(Schema):
    """`?page=` (1-based) and `?limit=` of a list; the total is in `X-Total-Count`."""

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=1_000_000))
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=500))


TOTAL_COUNT_HEADER = {
    "X-Total-Count": {
        "description": "How many items there are in all pages",
        "schema": {"type": "integer"},
    }
}
