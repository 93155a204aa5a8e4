from flask import request

from .. import security
from ..db import utcnow
from ..extensions import Blueprint
from ..sales import checkout, webhooks
from . import gateway
from .idempotency import idempotent
from .schemas import PaymentActionSchema, PaymentResultSchema, PaymentSchema, WebhookReceiptSchema

bp = Blueprint("payments", __name__, url_prefix="/payment", description="Paying for held tickets")

PAYMENT_SUCCESSFUL = "Payment successful"
CONFIRM_IN_BROWSER = "Confirm the payment in the browser"
AUTHENTICATION_REQUIRED = "Authentication required"
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "Retrying with the same key replays the first reply (24 hours) and never charges twice",
}
STRIPE_SIGNATURE = {"in": "header", "name": "Stripe-Signature", "required": True, "schema": {"type": "string"}}


@bp.route("", methods=["POST"])
@security.user_required
@idempotent
@bp.arguments(PaymentSchema)
@bp.response(200, PaymentResultSchema)
@bp.alt_response(202, schema=PaymentActionSchema, description="Confirm in the browser (or 3-D Secure)")
@bp.error(401, security.MISSING_TOKEN)
@bp.raises(checkout.AmountMismatch(expected=5000), "Invalid data; or the amount is not the ticket's (`expected`)")
@bp.raises(gateway.CardDeclined(decline_code="generic_decline"), "The card was declined: the ticket stays pending")
@bp.raises(checkout.TicketNotFound, "No such ticket of the caller's (or the caller's account is gone)")
@bp.raises(checkout.AlreadyPaid, "Already paid, free, hold expired, or a payment in progress")
@bp.raises(checkout.TooManyAttempts, "Card testing: 5 declines on the ticket, or 10 by the account, "
           "within an hour (the hold stays)")
@bp.raises(gateway.ProviderUnavailable)
@bp.doc(security=security.BEARER_AUTH, parameters=[IDEMPOTENCY_KEY])
def pay(fields):
    """Pay a held ticket: with `token` at once, without it in the browser (Stripe.js)."""
    payment = checkout.pay(
        ticket_id=fields["ticketId"],
        user_id=security.current_user_id(),
        amount=fields["amount"],
        token=fields.get("token"),
        now=utcnow(),
    )
    if payment.paid:
        return {"message": PAYMENT_SUCCESSFUL, "paymentId": payment.intent_id, "ticket": payment.ticket}
    message = AUTHENTICATION_REQUIRED if payment.needs_authentication else CONFIRM_IN_BROWSER
    return {"message": message, "paymentId": payment.intent_id, "clientSecret": payment.client_secret}, 202


@bp.route("/webhook", methods=["POST"])
@bp.response(200, WebhookReceiptSchema)
@bp.raises(gateway.InvalidWebhook)
@bp.doc(parameters=[STRIPE_SIGNATURE])
def webhook():
    """Stripe's events (signed with `STRIPE_WEBHOOK_SECRET`): payments that finished later."""
    event = gateway.verified_event(request.get_data(), request.headers.get("Stripe-Signature"))
    webhooks.handle_event(event, now=utcnow())
    return {"received": True}
