"""What an event shows."""

import marshmallow as ma

from ..schemas import DocumentSchema, UtcDateTime


class EventSchema(DocumentSchema):
    name = ma.fields.String(metadata={"example": "Jazz night"})
    date = UtcDateTime(metadata={"example": "2026-12-01T20:00:00.000Z"})
    location = ma.fields.String(metadata={"example": "Main hall"})
    description = ma.fields.String()
    image = ma.fields.String(metadata={"example": "https://example.com/poster.jpg"})
    capacity = ma.fields.Integer(metadata={"example": 300})
    price = ma.fields.Integer(
        metadata={"description": "In the currency's minor unit (cents)", "example": 2500}
    )
    currency = ma.fields.String(metadata={"example": "usd"})
    ticketsAvailable = ma.fields.Method("tickets_available", dump_only=True)

    def tickets_available(self, event):
        return max(event["capacity"] - event.get("seatsTaken", 0), 0)
