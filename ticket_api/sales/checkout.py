"""Paying for a held ticket: the charge claimed on the ticket, made once, and settled."""

from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta

from pymongo.errors import PyMongoError

from ..db import utcnow
from ..errors import ApiError
from ..stores import card_declines, gateway, tickets
from . import settlement


class TicketNotFound(ApiError):
    status_code, message, code = 404, "Ticket not found", "ticket_not_found"


class AmountMismatch(ApiError):
    """400 with the amount the ticket costs (`expected`), for the client to correct."""

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


# Card testing: declined attempts allowed per ticket and per account, within the window.
DECLINES_PER_TICKET = 5
DECLINES_PER_ACCOUNT = 10
DECLINE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Payment:
    """What a payment attempt came to: paid (`ticket`: the confirmed ticket), or waiting for
    the browser (`client_secret`; `needs_authentication` for 3-D Secure)."""

    intent_id: str
    paid: bool
    ticket: dict | None = None
    client_secret: str | None = None
    needs_authentication: bool = False


def pay(*, ticket_id, user_id, amount, token, now):
    """Charge the user's held ticket (with `token`), or prepare its payment for the browser.

    :return: the `Payment`.
    :raise ApiError: TicketNotFound, AmountMismatch, AlreadyPaid, FreeTicket, HoldExpired,
        PaymentInProgress, TooManyAttempts; the gateway's CardDeclined, StripeRefused and
        ProviderUnavailable; RefundedSeatsGone.
    """
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
    """Card testing: too many declined attempts on this ticket, or by this account, lately.

    Counted while the ticket's charge claim is held, so attempts on one ticket are exact;
    attempts of one account on several tickets at the same moment may each pass the count.
    """
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
    if ticket["status"] == "confirmed":
        return FreeTicket() if ticket["amount"] == 0 else AlreadyPaid()
    if ticket["status"] == "pending" and ticket["expiresAt"] > now:
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
