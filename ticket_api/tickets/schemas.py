"""What holding seats accepts, and what a ticket shows (its event populated; for staff, its holder)."""

import marshmallow as ma

from ..errors import ErrorSchema
from ..events.schemas import EventSchema
from ..schemas import DocumentSchema, ObjectIdField, PageQuerySchema, ReplySchema, Schema, StrictInteger, UtcDateTime
from ..stores.tickets import STATUSES, Status

PAID_WITH = ("card", "cash", "comp", "free")
MAX_QUANTITY = 10


class TicketCreateSchema(Schema):
    eventId = ObjectIdField(required=True, metadata={"example": "6b06d3c37bbe849cee143ee7"})
    quantity = StrictInteger(load_default=1, validate=ma.validate.Range(min=1, max=MAX_QUANTITY),
                             metadata={"example": 2})


def paid_with(ticket):
    """How the ticket was paid for (read so for tickets stored before `paidWith` was)."""
    if ticket.get("paidWith"):
        return ticket["paidWith"]
    if ticket.get("status") in (Status.CONFIRMED, Status.REFUNDED) and ticket.get("paymentIntent"):
        return "card"
    return "free" if ticket.get("status") == Status.CONFIRMED and ticket.get("amount") == 0 else None


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
        metadata={"type": "integer", "description": "Refunded outside the service (Stripe's dashboard), minor units",
                  "example": 0},
    )
    expiresAt = UtcDateTime(
        allow_none=True, dump_default=None,
        metadata={"description": "When a pending ticket's hold lapses; null otherwise"},
    )
    paidWith = ma.fields.Function(paid_with, metadata={"type": "string", "nullable": True, "enum": list(PAID_WITH),
                                                       "description": "How it was paid for; null until confirmed"})
    code = ma.fields.Function(
        lambda ticket: ticket.get("code") if ticket.get("status") == Status.CONFIRMED else None,
        metadata={"type": "string", "nullable": True, "example": "K7QX3MZ9R2HT5WNB8CDE4FGJ6PA",
                  "description": "The door code (also as `GET /tickets/<id>/qr.svg`), once confirmed"},
    )
    checkedInAt = UtcDateTime(allow_none=True, dump_default=None,
                              metadata={"description": "When it was scanned at the door; null until then"})


class HolderSchema(ReplySchema):
    """Who holds a ticket: its user's account (`_id`, `username`, `email`), or a walk-in's
    `name` and `email` (no account)."""

    id = ObjectIdField(data_key="_id", attribute="_id",
                       metadata={"description": "The user's (none for a walk-in)", "x-optional": True})
    username = ma.fields.String(metadata={"example": "ada", "description": "The user's (none for a walk-in)",
                                          "x-optional": True})
    name = ma.fields.String(metadata={"example": "Ada Lovelace", "description": "A walk-in's (none for a user)",
                                      "x-optional": True})
    email = ma.fields.String(allow_none=True, metadata={"example": "ada@example.com"})


class TicketWithHolderSchema(TicketSchema):
    """A ticket as staff see it in an event's list: with its holder (null when its user was deleted)."""

    holder = ma.fields.Nested(HolderSchema, allow_none=True, dump_default=None)


class EventTicketsQuerySchema(PageQuerySchema):
    """`?status=` (one of the ticket statuses; all when absent), and a page of the list."""

    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES),
                              metadata={"description": "Only tickets of this status"})


class NotAdmissibleSchema(ErrorSchema):
    """`not_admissible` (a QR code asked for, a scan at the door): the ticket's status."""

    status = ma.fields.String(metadata={"description": "`not_admissible`: the ticket's status"})
