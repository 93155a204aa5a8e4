"""Paying for a held ticket, and its payment brought up to date (docs/design.md, "Charges and holds")."""

import logging
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta

from pymongo.errors import PyMongoError

from ..db import utcnow
from ..errors import ApiError
from ..stores import card_declines, gateway, tickets
from ..stores.tickets import Status
from . import settlement

log = logging.getLogger(__name__)


class TicketNotFound(ApiError):
    status_code, message, code = 404, "Ticket not found", "ticket_not_found"


class AmountMismatch(ApiError):
    status_code, message, code = 400, "Amount does not match", "amount_mismatch"

    def __init__(self, expected):
        super().__init__()
        self.expected = expected

    def body(self):
        return {**super().body(), "expected": self.expected}


class AlreadyPaid(ApiError):
    status_code, message, code = 409, "Ticket already paid", "already_paid"


class FreeTicket(ApiError):
    status_code, message, code = 409, "Free tickets need no payment", "free_ticket"


class HoldExpired(ApiError):
    status_code, message, code = 409, "Hold expired", "hold_expired"


class TooManyAttempts(ApiError):
    status_code, code = 429, "too_many_attempts"
    message = "Too many declined payment attempts: try again in an hour"


# A ticket's payment is asked of Stripe at most this often, however often it is polled.
STRIPE_CHECK_EVERY = timedelta(seconds=3)
# Card testing: declined attempts allowed per ticket and per account, within the window.
DECLINES_PER_TICKET = 5
DECLINES_PER_ACCOUNT = 10
DECLINE_WINDOW = timedelta(hours=1)


# What `pay` refuses, for the route's documentation: an error, or (error, description).
REFUSALS = (
    (AmountMismatch(expected=5000), "`amount` is not the ticket's (`expected` is)"),
    gateway.StripeRefused,
    (gateway.CardDeclined("Your card has insufficient funds.", decline_code="insufficient_funds"),
     "The card was declined (`declineCode` says why): the ticket stays pending, pay again"),
    (TicketNotFound, "No such ticket of the caller's"),
    AlreadyPaid, FreeTicket, HoldExpired, settlement.PaymentInProgress, settlement.RefundedSeatsGone,
    (TooManyAttempts, "Card testing: 5 declines on the ticket, or 10 by the account, within an hour (the hold stays)"),
    (gateway.ProviderUnavailable, "Stripe could not be reached: retry with the same `Idempotency-Key`"),
)


@dataclass(frozen=True)
class Payment:
    """What a payment attempt came to: paid (`ticket`), or waiting for the browser (`client_secret`)."""

    intent_id: str
    paid: bool
    ticket: dict | None = None
    client_secret: str | None = None
    needs_authentication: bool = False


def pay(*, ticket_id, user_id, amount, token, now):
    """Charge the user's held ticket (with `token`), or prepare its payment for the browser.
    :return: the `Payment`. :raise ApiError: one of `REFUSALS`."""
    claimed = tickets.claim_for_charge(ticket_id, user_id, amount, now=now)
    if claimed is None:
        raise why_not_payable(tickets.get(ticket_id), user_id, amount, now)
    if too_many_declines(ticket_id, user_id, now=now):
        tickets.drop_charge_claim(ticket_id, now=now)
        raise TooManyAttempts()
    try:
        intent = existing_or_new_intent(claimed, now=now)
        if token and intent.status != "succeeded":  # succeeded: paid in the browser, not yet settled
            attempt_key = f"ticket-{ticket_id}-attempt-{claimed['paymentAttempt']}"
            intent = gateway.confirm_intent(intent.id, gateway.payment_method_for(token), attempt_key)
    except gateway.CardDeclined as declined:
        declined_at = utcnow()
        card_declines.record_decline(ticket_id=ticket_id, user_id=user_id, now=declined_at)
        tickets.end_charge(ticket_id, error=declined.message, now=declined_at)
        raise
    except Exception:  # the attempt is over: a success it hid is settled by the poll, webhook or release
        with suppress(PyMongoError):  # the database may be why we are here
            tickets.end_charge(ticket_id, now=utcnow())
        raise
    if intent.status == "succeeded":  # settled at the time Stripe answered, which may be a while after `now`
        return Payment(intent.id, paid=True, ticket=settlement.settle(intent, now=utcnow()))
    tickets.end_charge(ticket_id, now=utcnow())
    return Payment(intent.id, paid=False, client_secret=intent.client_secret,
                   needs_authentication=intent.status == "requires_action")


def too_many_declines(ticket_id, user_id, *, now):
    """Card testing: too many declined attempts on this ticket, or by this account, lately."""
    since = now - DECLINE_WINDOW
    by_account = card_declines.declines_of_user_since(since, user_id=user_id)
    if by_account < DECLINES_PER_TICKET:  # a ticket's declines are its owner's: fewer still, no need to count them
        return False
    return (by_account >= DECLINES_PER_ACCOUNT
            or card_declines.declines_since(since, ticket_id=ticket_id) >= DECLINES_PER_TICKET)


def why_not_payable(ticket, user_id, amount, now):
    if ticket is None or ticket["user"] != user_id:
        return TicketNotFound()
    if amount != ticket["amount"]:
        return AmountMismatch(expected=ticket["amount"])
    if ticket["status"] == Status.CONFIRMED:
        return FreeTicket() if ticket["amount"] == 0 else AlreadyPaid()
    if ticket["status"] == Status.PENDING and ticket["expiresAt"] > now:
        return settlement.PaymentInProgress()
    return HoldExpired()


def existing_or_new_intent(ticket, *, now):
    """The ticket's one PaymentIntent: created (and recorded on the ticket) on first use."""
    if ticket.get("paymentIntent"):
        return gateway.retrieve_intent(ticket["paymentIntent"])
    intent = gateway.create_intent(
        amount=ticket["amount"],
        currency=ticket["currency"],
        metadata={"ticketId": str(ticket["_id"]), "userId": str(ticket["user"])},
        idempotency_key=f"ticket-{ticket['_id']}-intent",
    )
    tickets.set_intent(ticket["_id"], intent.id, now=now)
    return intent


def refresh(ticket, *, now):
    """Ask Stripe about a pending ticket's payment, at most every `STRIPE_CHECK_EVERY`, and apply what
    it says; Stripe down is logged, not an error. :return: the ticket with its event, as it is now."""
    if ticket["status"] == Status.PENDING and ticket.get("paymentIntent") and tickets.claim_stripe_check(
        ticket["_id"], now=now, every=STRIPE_CHECK_EVERY
    ):
        try:
            intent = gateway.retrieve_intent(ticket["paymentIntent"])
            if intent.status == "succeeded":
                settlement.settle_where_nobody_waits(intent)
            elif settlement.error_message(intent):
                tickets.end_charge(ticket["_id"], error=settlement.error_message(intent), now=now)
        except ApiError as error:
            log.warning("could not refresh %s: %s", ticket["paymentIntent"], error.message)
    return tickets.get_with_event(ticket["_id"])
