"""What holding seats accepts, and what a ticket shows: its event populated, its user as an id."""

import marshmallow as ma

from ..events.schemas import EventSchema
from ..schemas import DocumentSchema, ObjectIdField, Schema, StrictInteger, UtcDateTime

STATUSES = ("pending", "confirmed", "expired", "cancelled", "refunded")
MAX_QUANTITY = 10


class TicketCreateSchema(Schema):
    eventId = ObjectIdField(required=True, metadata={"example": "6b06d3c37bbe849cee143ee7"})
    quantity = StrictInteger(load_default=1, validate=ma.validate.Range(min=1, max=MAX_QUANTITY),
                             metadata={"example": 2})


class TicketIdSchema(Schema):
    ticket_id = ObjectIdField(required=True)


class TicketSchema(DocumentSchema):
    event = ma.fields.Nested(EventSchema)
    user = ObjectIdField()
    quantity = ma.fields.Integer(metadata={"example": 2})
    amount = ma.fields.Integer(metadata={"description": "price x quantity, in minor units", "example": 5000})
    currency = ma.fields.String(metadata={"example": "usd"})
    status = ma.fields.String(metadata={"enum": list(STATUSES)})
    refundedAmount = ma.fields.Function(
        lambda ticket: ticket.get("refundedAmount", 0),
        metadata={"type": "integer", "description": "Refunded outside the service (Stripe's dashboard), minor units"},
    )
    expiresAt = UtcDateTime(
        allow_none=True, metadata={"description": "When a pending ticket's hold lapses; null otherwise"}
    )
