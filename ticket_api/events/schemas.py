"""What creating an event accepts, what listing events accepts, and what an event shows."""

from datetime import UTC

import marshmallow as ma

from ..schemas import DocumentSchema, ObjectIdField, PageQuerySchema, Schema, StrictInteger, UtcDateTime

MAX_CAPACITY = 1_000_000
# Ten seats of the dearest event stay within Stripe's largest charge (99,999,999 minor units).
MAX_PRICE = 9_999_999


class EventCreateSchema(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200),
                            metadata={"example": "Jazz night"})
    date = ma.fields.AwareDateTime(
        required=True,
        default_timezone=UTC,
        metadata={"description": "ISO 8601; without an offset it is UTC", "example": "2026-12-01T20:00:00Z"},
    )
    capacity = StrictInteger(required=True, validate=ma.validate.Range(min=1, max=MAX_CAPACITY),
                             metadata={"example": 300})
    price = StrictInteger(
        load_default=0,
        validate=ma.validate.Range(min=0, max=MAX_PRICE),
        metadata={"description": "In the currency's minor unit (cents); 0 is free", "example": 2500},
    )
    currency = ma.fields.String(
        validate=ma.validate.Regexp(r"^[A-Za-z]{3}$", error="Three letters, such as usd."),
        metadata={"description": "ISO 4217, default from the settings", "example": "usd"},
    )
    location = ma.fields.String(load_default="", validate=ma.validate.Length(max=200),
                                metadata={"example": "Main hall"})
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=5000),
                                   metadata={"multiline": True})
    image = ma.fields.URL(
        schemes={"http", "https"},
        validate=ma.validate.Length(max=2048),
        metadata={"example": "https://example.com/poster.jpg"},
    )

    @ma.post_load
    def normalize(self, event, **kwargs):
        event["date"] = event["date"].astimezone(UTC)
        if "currency" in event:
            event["currency"] = event["currency"].lower()
        return event


class EventQuerySchema(PageQuerySchema):
    upcoming = ma.fields.Boolean(load_default=False, metadata={"description": "Only events from now on"})


class EventIdSchema(Schema):
    event_id = ObjectIdField(required=True)


class EventSchema(DocumentSchema):
    name = ma.fields.String(metadata={"example": "Jazz night"})
    date = UtcDateTime(metadata={"example": "2026-12-01T20:00:00.000Z"})
    location = ma.fields.String(metadata={"example": "Main hall"})
    description = ma.fields.String()
    image = ma.fields.String(allow_none=True, metadata={"example": "https://example.com/poster.jpg"})
    capacity = ma.fields.Integer(metadata={"example": 300})
    price = ma.fields.Integer(
        metadata={"description": "In the currency's minor unit (cents)", "example": 2500}
    )
    currency = ma.fields.String(metadata={"example": "usd"})
    ticketsAvailable = ma.fields.Method(
        "tickets_available",
        dump_only=True,
        metadata={"type": "integer", "description": "capacity minus seats held or sold"},
    )

    def tickets_available(self, event):
        return max(event["capacity"] - event["seatsTaken"], 0)
