"""Stripe, through the official SDK: the only code that calls it (docs/design.md, "Stripe")."""

import logging
from contextlib import contextmanager

import stripe
from flask import current_app, g

from ..errors import ApiError
from ..extensions import loads

log = logging.getLogger(__name__)

# Stripe's decline-code guidance: never tell the customer these; answer a generic decline.
UNTOLD_DECLINES = {"fraudulent", "lost_card", "stolen_card", "pickup_card", "merchant_blacklist"}


class CardDeclined(ApiError):
    status_code, message, code = 402, "Your card was declined.", "card_declined"

    def __init__(self, message=None, decline_code=None):
        super().__init__(message)
        self.decline_code = decline_code

    def body(self):
        return {**super().body(), **({"declineCode": self.decline_code} if self.decline_code else {})}


class StripeRefused(ApiError):
    status_code, message, code = 400, "Stripe refused the request", "payment_refused"


class ProviderUnavailable(ApiError):
    status_code, message, code = 502, "Payment provider unavailable", "payment_provider_unavailable"


class InvalidWebhook(ApiError):
    status_code, message, code = 400, "Invalid webhook signature or payload", "invalid_data"


def init_app(app):
    base = app.config.get("STRIPE_API_BASE")
    app.extensions["stripe"] = stripe.StripeClient(
        app.config["STRIPE_SECRET_KEY"],
        base_addresses={"api": base} if base else {},
        max_network_retries=app.config["STRIPE_MAX_RETRIES"],
        http_client=stripe.RequestsClient(timeout=app.config["STRIPE_TIMEOUT_SECONDS"]),
    )


def client():
    return current_app.extensions["stripe"].v1


@contextmanager
def calling_stripe():
    """Turn the SDK's errors into the API's: 402, 400, 502 (then at once for the rest of the app context)."""
    if g.get("stripe_unavailable"):
        raise ProviderUnavailable()
    try:
        yield
    except stripe.CardError as error:
        raise declined(error) from error
    except stripe.InvalidRequestError as error:
        if error.http_status and error.http_status >= 500:
            g.stripe_unavailable = True
            raise ProviderUnavailable() from error
        log.warning("Stripe refused the request: %s (%s)", error.user_message or str(error), error.code)
        raise StripeRefused() from error
    except stripe.StripeError as error:  # connection, 5xx, rate limit, authentication
        current_app.logger.error("Stripe call failed: %s", type(error).__name__)
        g.stripe_unavailable = True
        raise ProviderUnavailable() from error


def declined(error):
    """The 402 for a card error; codes Stripe says never to tell are logged and answered `generic_decline`."""
    decline_code = getattr(error.error, "decline_code", None) or error.code
    if decline_code in UNTOLD_DECLINES:
        log.warning("card declined: %s (answered as generic_decline)", decline_code)
        return CardDeclined(decline_code="generic_decline")
    return CardDeclined(error.user_message or CardDeclined.message, decline_code)


def payment_method_for(token):
    """A PaymentMethod id: `pm_...` as is, a legacy `tok_...` card token turned into one first."""
    if not token.startswith("tok_"):
        return token
    with calling_stripe():
        return client().payment_methods.create(params={"type": "card", "card": {"token": token}}).id


def create_intent(*, amount, currency, metadata, idempotency_key):
    with calling_stripe():
        return client().payment_intents.create(
            params={"amount": amount, "currency": currency, "metadata": metadata,
                    "payment_method_types": ["card"]},
            options={"idempotency_key": idempotency_key},
        )


def confirm_intent(intent_id, payment_method, idempotency_key):
    with calling_stripe():
        return client().payment_intents.confirm(
            intent_id, params={"payment_method": payment_method}, options={"idempotency_key": idempotency_key}
        )


def retrieve_intent(intent_id):
    with calling_stripe():
        return client().payment_intents.retrieve(intent_id)


def amount_refunded(intent_id):
    """How much of a PaymentIntent's charge has been refunded, as Stripe says now."""
    with calling_stripe():
        intent = client().payment_intents.retrieve(intent_id, params={"expand": ["latest_charge"]})
    charge = intent.latest_charge
    return charge.amount_refunded if charge is not None and not isinstance(charge, str) else 0


CANCELLABLE = ("requires_payment_method", "requires_confirmation", "requires_action")


def cancel_intent(intent_id):
    """Cancel an unfinished PaymentIntent; return it as it is after (it may have succeeded)."""
    with calling_stripe():
        try:
            return client().payment_intents.cancel(intent_id)
        except stripe.InvalidRequestError:  # succeeded or cancelled already, or a true refusal
            intent = client().payment_intents.retrieve(intent_id)
            if intent.status in CANCELLABLE:
                raise
            return intent


def refund_intent(intent_id):
    with calling_stripe():
        return client().refunds.create(
            params={"payment_intent": intent_id}, options={"idempotency_key": f"refund-{intent_id}"}
        )


def verified_event(payload, signature):
    """The Stripe event in a webhook request, once its signature checks out.
    :raise InvalidWebhook: no secret, a bad signature, or not an event (each logged with its reason)."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        log.error("Stripe webhook refused: no STRIPE_WEBHOOK_SECRET is set (the endpoint's signing secret, whsec_...)")
        raise InvalidWebhook()
    if not signature:
        log.warning("Stripe webhook refused: no Stripe-Signature header (not sent by Stripe)")
        raise InvalidWebhook()
    try:
        stripe.WebhookSignature.verify_header(payload.decode("utf-8", "replace"), signature, secret,
                                              stripe.Webhook.DEFAULT_TOLERANCE)
    except stripe.SignatureVerificationError as error:
        log.warning(
            "Stripe webhook refused: %s. If every webhook is refused, STRIPE_WEBHOOK_SECRET is likely not "
            "the signing secret of this endpoint in Stripe's dashboard", str(error).rstrip(".")
        )
        raise InvalidWebhook() from error
    if not is_an_event(payload):
        log.warning("Stripe webhook refused: signed, but not a Stripe event")
        raise InvalidWebhook()
    return stripe.Webhook.construct_event(payload, signature, secret)


def is_an_event(payload):
    """Whether a signed body has what the handlers read: text `id`, `type` and `data.object.id`."""
    try:
        body = loads(payload)
    except ValueError:  # json.JSONDecodeError: too deep, a lone surrogate, not UTF-8
        return False
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        return False
    obj = body["data"].get("object")
    return (isinstance(body.get("id"), str) and isinstance(body.get("type"), str)
            and isinstance(obj, dict) and isinstance(obj.get("id"), str))
