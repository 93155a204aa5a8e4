"""What paying accepts and answers."""

import marshmallow as ma

from ..schemas import ObjectIdField, ReplySchema, Schema, StrictInteger
from ..tickets.schemas import TicketSchema


class PaymentSchema(Schema):
    ticketId = ObjectIdField(required=True)
    amount = StrictInteger(
        required=True,
        validate=ma.validate.Range(min=0),
        metadata={"description": "Must equal the ticket's `amount` (minor units)", "example": 5000},
    )
    token = ma.fields.String(
        validate=ma.validate.Regexp(r"^(pm|tok)_[A-Za-z0-9_]{1,250}$",
                                    error="A Stripe PaymentMethod (pm_...) or card token (tok_...)."),
        metadata={"description": "Omit it to confirm in the browser with Stripe.js", "example": "pm_card_visa"},
    )


class PaymentResultSchema(ReplySchema):
    message = ma.fields.String(metadata={"example": "Payment successful"})
    paymentId = ma.fields.String(metadata={"description": "The Stripe PaymentIntent id", "example": "pi_123"})
    ticket = ma.fields.Nested(TicketSchema, metadata={"description": "The ticket, confirmed"})


class PaymentActionSchema(ReplySchema):
    message = ma.fields.String(metadata={"enum": ["Confirm the payment in the browser", "Authentication required"]})
    paymentId = ma.fields.String(metadata={"description": "The Stripe PaymentIntent id", "example": "pi_123"})
    clientSecret = ma.fields.String(metadata={
        "description": "For `stripe.confirmCardPayment` (or `stripe.handleCardAction`) in the browser",
        "example": "pi_123_secret_456"})


class WebhookReceiptSchema(ReplySchema):
    received = ma.fields.Boolean(metadata={"example": True})
