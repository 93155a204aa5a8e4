"""Development and tests only: localstripe, taught what Stripe's testing docs promise.

Stock localstripe binds every interface, pickles its whole store to a fixed path after
every write, knows three test payment methods, and answers "Not implemented" to a
PaymentIntent confirmed with a payment method (what Stripe.js does). This launcher:

- binds 127.0.0.1 and keeps the store in memory, saved to `--store` at shutdown (and
  loaded from it at start) when one is given;
- knows the test payment methods, tokens and card numbers of Stripe's testing docs,
  each succeeding, declining with Stripe's `decline_code` and message, or asking for
  3-D Secure, as Stripe documents;
- confirms a PaymentIntent with a `payment_method`, server-side (secret key) or as
  Stripe.js does (publishable key + `client_secret`).

    python -m ticket_api.dev.stripe_standin --port 12111 [--store FILE]
"""

import argparse
import pickle
import re
from pathlib import Path

from aiohttp import web
from localstripe import resources, server
from localstripe.errors import UserError
from localstripe.resources import Charge, PaymentIntent, PaymentMethod, store

VISA = "4242424242424242"
MASTERCARD = "5555555555554444"
DECLINES = {  # card number: (error code, decline_code, message)
    "4000000000000002": ("card_declined", "generic_decline", "Your card was declined."),
    "4000000000009995": ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "4000000000009987": ("card_declined", "lost_card", "Your card was declined."),
    "4000000000009979": ("card_declined", "stolen_card", "Your card was declined."),
    "4000000000000069": ("expired_card", "expired_card", "Your card has expired."),
    "4000000000000127": ("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."),
    "4000000000000119": ("processing_error", "processing_error",
                         "An error occurred while processing your card. Try again in a little bit."),
    "4000000000000341": ("card_declined", "generic_decline", "Your card was declined."),
}
AUTHENTICATION_REQUIRED = {"4000002500003155", "4000000000003220", "4000000000003063", "4000002760003184"}
TEST_CARDS = {  # Stripe's test PaymentMethods and tokens: card number
    "visa": VISA,
    "visa_debit": "4000056655665556",
    "mastercard": MASTERCARD,
    "chargeDeclined": "4000000000000002",
    "chargeDeclinedInsufficientFunds": "4000000000009995",
    "chargeDeclinedLostCard": "4000000000009987",
    "chargeDeclinedStolenCard": "4000000000009979",
    "chargeDeclinedExpiredCard": "4000000000000069",
    "chargeDeclinedIncorrectCvc": "4000000000000127",
    "chargeDeclinedProcessingError": "4000000000000119",
    "chargeCustomerFail": "4000000000000341",
    "threeDSecure2Required": "4000000000003220",
    "threeDSecureRequired": "4000000000003063",
    "authenticationRequired": "4000002500003155",
}
TEST_PAYMENT_METHODS = {f"pm_card_{name}": number for name, number in TEST_CARDS.items()}
TEST_TOKENS = {f"tok_{name}": number for name, number in TEST_CARDS.items()}

stock_canonical_article = PaymentMethod._try_get_canonical_test_article.__func__
stock_payment_method_init = PaymentMethod.__init__
stock_confirm = PaymentIntent._api_confirm.__func__


def card(number):
    return {"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"}


def canonical_test_article(cls, id):
    """`pm_card_*` ids become stored payment methods, as Stripe does on first use."""
    if id in TEST_PAYMENT_METHODS:
        return PaymentMethod(type="card", card=card(TEST_PAYMENT_METHODS[id]))
    return stock_canonical_article(cls, id)


def payment_method_init(self, type=None, card=None, **kwargs):
    """Also `card={"token": "tok_visa"}`: a test token turned into a payment method."""
    if isinstance(card, dict) and set(card) == {"token"}:
        if card["token"] not in TEST_TOKENS:
            raise UserError(404, f"No such token: '{card['token']}'")
        card = globals()["card"](TEST_TOKENS[card["token"]])
    stock_payment_method_init(self, type=type, card=card, **kwargs)


def card_number(payment_method):
    return getattr(payment_method, "_card_number", None)


def charging_is_declined(self):
    return card_number(self) in DECLINES


def requires_authentication(self):
    return card_number(self) in AUTHENTICATION_REQUIRED


def set_auth_failure(self):
    """A declined charge says why, in Stripe's words."""
    number = card_number(PaymentMethod._api_retrieve(self.payment_method))
    code, decline_code, message = DECLINES.get(number, DECLINES["4000000000000002"])
    self.status = "failed"
    self.failure_code = code
    self.failure_message = message
    self._decline_code = decline_code


def raise_failure(self):
    error = UserError(402, self.failure_message, {
        "code": self.failure_code,
        "decline_code": getattr(self, "_decline_code", None),
        "charge": self.id,
        "payment_intent": self.payment_intent and {"id": self.payment_intent},
    })
    error.body["error"]["type"] = "card_error"
    raise error


def last_payment_error(self):
    if self._authentication_failed:
        return {"code": "payment_intent_authentication_failure",
                "message": "The provided PaymentMethod has failed authentication."}
    if self.latest_charge and self.latest_charge.status == "failed":
        return {"charge": self.latest_charge.id, "code": self.latest_charge.failure_code,
                "decline_code": getattr(self.latest_charge, "_decline_code", None),
                "message": self.latest_charge.failure_message, "type": "card_error"}
    return None


def confirm(cls, id, payment_method=None, client_secret=None, return_url=None, **kwargs):
    """Confirm with a payment method: a new card after a decline, or Stripe.js's confirm."""
    intent = cls._api_retrieve(id)
    if client_secret is not None and client_secret != intent.client_secret:
        raise UserError(400, "The client_secret provided does not match this PaymentIntent.")
    if payment_method is not None:
        PaymentMethod._api_retrieve(payment_method)  # 404 when unknown
        if intent.status not in ("requires_payment_method", "requires_confirmation", "requires_action"):
            raise UserError(400, f"This PaymentIntent's status is {intent.status}: it cannot be confirmed.")
        intent.payment_method = payment_method
        intent.next_action = None
        intent.latest_charge = None
        intent._authentication_failed = False
    return stock_confirm(cls, id, **kwargs)


CONFIRM_PATH = re.compile(r"^/v1/payment_intents/(pi_\w+)/confirm$")


@web.middleware
async def confirm_with_payment_method(request, handler):
    """Route PaymentIntent confirmations to `confirm` above (stock routing holds the old one).

    Stripe.js confirms with the publishable key and the client secret, not the secret key.
    """
    match = CONFIRM_PATH.match(request.path)
    if request.method != "POST" or not match:
        return await handler(request)
    data = await server.get_post_data(request, remove_auth=False) or {}
    publishable = str(data.pop("key", "")).startswith("pk_") and "client_secret" in data
    if not (server.get_api_key(request) or publishable):
        return server.json_response({"error": {"message": "Unauthorized"}}, status=401)
    for ignored in ("payment_user_agent", "referrer", "expand", "use_stripe_sdk",
                    "expected_payment_method_type"):
        data.pop(ignored, None)
    try:
        intent = PaymentIntent._api_confirm(match.group(1), **data)
    except UserError as error:
        return error.to_response()
    return server.json_response(intent._export())


def teach():
    """Apply the lessons above to the localstripe classes."""
    PaymentMethod._try_get_canonical_test_article = classmethod(canonical_test_article)
    PaymentMethod.__init__ = payment_method_init
    PaymentMethod._charging_is_declined = charging_is_declined
    PaymentMethod._requires_authentication = requires_authentication
    Charge._set_auth_failure = set_auth_failure
    Charge._raise_failure = raise_failure
    PaymentIntent.last_payment_error = property(last_payment_error)
    PaymentIntent._api_confirm = classmethod(confirm)
    resources.Store.dump_to_disk = lambda self: None  # stock: the whole store, every write
    server.app.middlewares.insert(0, confirm_with_payment_method)


def keep_store_in(path):
    """Load the store from `path` now, and save it there at shutdown."""
    if path.is_file():
        with path.open("rb") as saved:
            store.update(pickle.load(saved))

    async def save(app):
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_suffix(".tmp")
        with draft.open("wb") as out:
            pickle.dump(dict(store), out, protocol=pickle.HIGHEST_PROTOCOL)
        draft.replace(path)

    server.app.on_shutdown.append(save)


def main():
    parser = argparse.ArgumentParser(description="localstripe, as Stripe's testing docs describe Stripe")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", type=Path, help="file to keep the store in (default: memory only)")
    options = parser.parse_args()
    teach()
    if options.store:
        keep_store_in(options.store)
    web.run_app(server.app, host="127.0.0.1", port=options.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
