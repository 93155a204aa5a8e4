"""What a ticket shows: its event populated, its user as an id."""

import marshmallow as ma

from ..events.schemas import EventSchema
from ..schemas import DocumentSchema, ObjectIdField, UtcDateTime

STATUSES = ("pending", "confirmed", "expired", "cancelled", "refunded")


class TicketSchema(DocumentSchema):
    event = ma.fields.Nested(EventSchema)
    user = ObjectIdField()
    quantity = ma.fields.Integer(metadata={"example": 2})
    amount = ma.fields.Integer(metadata={"description": "price x quantity, in minor units"})
    currency = ma.fields.String(metadata={"example": "usd"})
    status = ma.fields.String(metadata={"enum": list(STATUSES)})
    expiresAt = UtcDateTime(allow_none=True)
