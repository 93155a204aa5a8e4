"""Money given back once per payment, its ticket `refunded`, seats back (docs/design.md, "Refunds")."""

import logging

from ..errors import ApiError
from ..stores import gateway, payments, tickets
from ..stores.tickets import Status
from . import seats

log = logging.getLogger(__name__)

# What a ticket may be when money goes back, for it to end `refunded`: for its own payment
# anything a ticket can leave for `refunded`; for money that is not its own (a second
# PaymentIntent, a wrong amount) only what holds no seats, so a ticket paid otherwise stays.
REFUNDED_FROM_OWN = tuple(status for status, to in tickets.TRANSITIONS.items() if Status.REFUNDED in to)
REFUNDED_FROM_STRAY = (Status.EXPIRED, Status.CANCELLED)


def refund(intent_id, *, amount, currency, ticket, own, now):
    """Give a payment back, once; the ticket (if any) ends `refunded` from the statuses its payment
    allows (`own`: its own payment), its seats back. :return: False if someone else is making it.
    :raise ApiError: Stripe refused or is down; the claim is dropped, nothing changed."""
    claim = payments.claim_refund(intent_id, now=now, stale_after=tickets.CHARGE_GRACE)
    if claim is None:
        return False
    if claim != "done":  # done: made and recorded by a process that died before the ticket said so
        try:
            if claim == "new" or gateway.amount_refunded(intent_id) < amount:
                gateway.refund_intent(intent_id)
        except ApiError:
            payments.drop_refund_claim(intent_id)
            raise
        payments.refund_done(intent_id, ticket_id=ticket and ticket["_id"], amount=amount, currency=currency,
                             now=now)
    if ticket is not None:
        mark_refunded(ticket["_id"], own=own, now=now)
    return True


def refund_stray(intent, ticket, *, now):
    """Give back money that found no ticket to confirm (its ticket, if any, ends `refunded`)."""
    own = (ticket is not None and ticket.get("paymentIntent") == intent.id
           and (intent.amount, intent.currency) == (ticket["amount"], ticket["currency"]))
    if refund(intent.id, amount=intent.amount, currency=intent.currency, ticket=ticket, own=own, now=now):
        log.warning("refunded %s: its ticket could not be confirmed", intent.id)


def mark_refunded(ticket_id, *, own, now):
    """The ticket's money went back: `refunded`; a ticket that held seats gives them back."""
    before = tickets.mark_refunded(ticket_id, now=now, statuses=REFUNDED_FROM_OWN if own else REFUNDED_FROM_STRAY)
    seats.given_back_if(before is not None and before["status"] in tickets.HOLDING, before, now=now)
