"""What holding seats accepts, and what a ticket shows: its event populated, its user as an
id; for staff, also its holder."""

import marshmallow as ma

from ..events.schemas import EventSchema
from ..schemas import DocumentSchema, ObjectIdField, PageQuerySchema, Schema, StrictInteger, UtcDateTime
from .store import STATUSES

MAX_QUANTITY = 10


class TicketCreateSchema(Schema):
    eventId = ObjectIdField(required=True, metadata={"example": "6b06d3c37bbe849cee143ee7"})
    quantity = StrictInteger(load_default=1, validate=ma.validate.Range(min=1, max=MAX_QUANTITY),
                             metadata={"example": 2})


class TicketIdSchema(Schema):
    ticket_id = ObjectIdField(required=True)


class TicketSchema(DocumentSchema):
    event = ma.fields.Nested(EventSchema)
    user = ObjectIdField(allow_none=True, dump_default=None,
                         metadata={"description": "The owner's id; null for a walk-in's ticket (box office)"})
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


class HolderSchema(Schema):
    """Who holds a ticket: its user's account, or a walk-in's name and email (no account)."""

    id = ObjectIdField(data_key="_id", attribute="_id", metadata={"description": "The user's (none for a walk-in)"})
    username = ma.fields.String(metadata={"example": "ada", "description": "The user's (none for a walk-in)"})
    name = ma.fields.String(metadata={"example": "Ada Lovelace", "description": "A walk-in's (none for a user)"})
    email = ma.fields.String(allow_none=True, metadata={"example": "ada@example.com"})


class TicketWithHolderSchema(TicketSchema):
    """A ticket as staff see it in an event's list: with its holder (null when its user
    was deleted)."""

    holder = ma.fields.Nested(HolderSchema, allow_none=True, dump_default=None)


class EventTicketsQuerySchema(PageQuerySchema):
    """`?status=` (one of the ticket statuses; all when absent), and a page of the list."""

    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES),
                              metadata={"description": "Only tickets of this status"})
