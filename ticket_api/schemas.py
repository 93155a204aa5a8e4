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

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            return ObjectId(value)
        except InvalidId as error:
            raise self.make_error("invalid") from error


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
