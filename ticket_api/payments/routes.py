from flask import jsonify, request

from .. import security
from ..db import utcnow
from ..extensions import Blueprint
from ..sales import checkout, webhooks
from ..stores import gateway
from .idempotency import KeyInUse, KeyReused, KeyTooLong, idempotent
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
@bp.alt_response(202, schema=PaymentActionSchema,
                 description="Confirm in the browser (no `token`), or 3-D Secure: then poll the ticket")
@bp.raises(*checkout.REFUSALS, *security.TOKEN_REFUSALS, KeyReused, KeyTooLong, KeyInUse)
@bp.doc(operationId="payTicket", security=security.BEARER_AUTH, parameters=[IDEMPOTENCY_KEY])
def pay(fields):
    """Pay a held ticket.

    With a `token` (a PaymentMethod from Stripe.js) the card is charged at once: 200 with
    the ticket `confirmed`. Without one the answer is 202 with the `clientSecret` to
    confirm the payment in the browser (`stripe.confirmCardPayment`); then poll
    `GET /tickets/{ticket_id}` until the ticket is `confirmed`. A card that asks for 3-D
    Secure is a 202 too ("Authentication required").
    """
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
    # As it is: `bp.response` would dump it with the 200's schema (`PaymentActionSchema` documents it).
    return jsonify({"message": message, "paymentId": payment.intent_id, "clientSecret": payment.client_secret}), 202


@bp.route("/webhook", methods=["POST"])
@bp.response(200, WebhookReceiptSchema)
@bp.raises(gateway.InvalidWebhook)
@bp.doc(operationId="receiveStripeEvent", security=security.PUBLIC, parameters=[STRIPE_SIGNATURE])
def webhook():
    """Receive Stripe's events (for Stripe only).

    Signed with `STRIPE_WEBHOOK_SECRET`: payments that finished later, and refunds made in
    Stripe's dashboard.
    """
    event = gateway.verified_event(request.get_data(), request.headers.get("Stripe-Signature"))
    webhooks.handle_event(event, now=utcnow())
    return {"received": True}
