"""Tickets given back, one or all of a cancelled event's (docs/design.md, "Giving tickets back")."""

import logging
import time

from ..errors import ApiError
from ..stores import events, gateway, tickets
from ..stores.tickets import Status
from . import refunds, seats, settlement
from .settlement import PaymentInProgress

log = logging.getLogger(__name__)

# A cancelled event's refunds one request makes, at most for this long: the rest are
# left to the next call (`202` with what is pending) or `flask reconcile`.
REFUNDS_SECONDS_PER_REQUEST = 20


class NotCancellable(ApiError):
    status_code, code = 409, "not_cancellable"

    def __init__(self, status):
        super().__init__(f"This ticket is {status} already")


class RefundNotAllowed(ApiError):
    status_code, code = 409, "refund_not_allowed"
    message = "This ticket can no longer be refunded by its holder: ask the venue"


class CheckedIn(ApiError):
    status_code, code = 409, "checked_in"
    message = "This ticket was used at the door"


class RefundInProgress(ApiError):
    status_code, code = 409, "refund_in_progress"
    message = "A refund for this ticket is already in progress"


def cancel(ticket, *, by_staff, now):
    """Give the ticket back: its hold released, or its money refunded in full. The holder may refund a
    card-paid ticket only before `refundDeadline`, and give back none used at the door.
    :return: the ticket with its event, as it is now.
    :raise NotCancellable, RefundNotAllowed, CheckedIn, PaymentInProgress, RefundInProgress; the gateway's."""
    if ticket["status"] == Status.PENDING:
        if give_up_hold(ticket, now=now):
            return tickets.get_with_event(ticket["_id"])
        ticket = tickets.get(ticket["_id"])  # paid meanwhile: then it is refunded, as a paid one
    if ticket["status"] != Status.CONFIRMED:
        raise NotCancellable(ticket["status"])
    if not by_staff:
        check_holder_may_cancel(ticket, now=now)
    if ticket.get("paymentIntent"):
        refund_ticket(ticket, by_holder=not by_staff, now=now)
    elif not give_back_unpaid(ticket, now=now, unless_checked_in=not by_staff):
        raise why_not_given_back(tickets.get(ticket["_id"]))  # changed, or scanned, since it was read
    return tickets.get_with_event(ticket["_id"])


def check_holder_may_cancel(ticket, *, now):
    if ticket.get("checkedInAt"):
        raise CheckedIn()
    if ticket.get("paymentIntent"):
        deadline = events.get(ticket["event"]).get("refundDeadline")
        if deadline is None or now > deadline:
            raise RefundNotAllowed()


def give_up_hold(ticket, *, now):
    """Release a pending hold, then cancel its PaymentIntent. :return: whether it was given up (False:
    no longer pending). :raise PaymentInProgress: a charge for it is running."""
    if not seats.given_back_if(tickets.cancel_hold(ticket, now=now), ticket, now=now):
        if tickets.get(ticket["_id"])["status"] == Status.PENDING:
            raise PaymentInProgress()  # the write missed a pending ticket: a charge began
        return False
    if ticket.get("paymentIntent"):
        settlement.cancel_unfinished(ticket["_id"], ticket["paymentIntent"])
    return True


def refund_ticket(ticket, *, by_holder, now):
    """Refund the ticket in full; for its holder, claimed first so that no scan admits it meanwhile."""
    if by_holder and not tickets.claim_give_back(ticket["_id"], now=now):
        raise why_not_given_back(tickets.get(ticket["_id"]))
    try:
        refunded = refund_in_full(ticket, now=now)
    finally:
        if by_holder:
            tickets.drop_give_back(ticket["_id"])  # refunded, or not: then it admits again
    if not refunded:
        raise why_not_given_back(tickets.get(ticket["_id"]))


def why_not_given_back(current):
    """The error for a ticket read again after its give-back missed: not confirmed, scanned, or refunding."""
    if current["status"] != Status.CONFIRMED:
        return NotCancellable(current["status"])
    return CheckedIn() if current.get("checkedInAt") else RefundInProgress()


def refund_in_full(ticket, *, now):
    return refunds.refund(ticket["paymentIntent"], amount=ticket["amount"], currency=ticket["currency"],
                          ticket=ticket, own=True, now=now)


def give_back_unpaid(ticket, *, now, unless_checked_in=False):
    """A confirmed ticket no card paid for -> cancelled, its seats back (`unless_checked_in`: only if
    not scanned). :return: whether this call did it."""
    return seats.given_back_if(tickets.cancel_unpaid(ticket["_id"], now=now, unless_checked_in=unless_checked_in),
                               ticket, now=now)


def cancel_event(event_id, *, reason, now):
    """Cancel the event for good, then settle its tickets (calling again, or `reconcile`, finishes).
    :return: the event, and how many tickets are still to settle. :raise EventNotFound:"""
    if events.get(event_id) is None:
        raise events.EventNotFound()
    if events.mark_cancelled(event_id, now=now, reason=reason):
        log.warning("event %s cancelled", event_id)
    pending = settle_cancelled_event(event_id, now=now)
    return events.get(event_id), pending


def settle_cancelled_event(event_id, *, now):
    """Settle a cancelled event's tickets: those that need no Stripe call, the refunds while time and
    Stripe last, then the released holds' PaymentIntents. :return: how many are still pending or confirmed."""
    paid, intents_to_cancel = [], 0
    for ticket in tickets.holding_for_event(event_id):
        if ticket["status"] == Status.PENDING:
            # Not while a charge runs: it is settled later.
            if seats.given_back_if(tickets.cancel_hold(ticket, now=now), ticket, now=now):
                intents_to_cancel += bool(ticket.get("paymentIntent"))
        elif ticket.get("paymentIntent"):
            paid.append(ticket)
        else:
            give_back_unpaid(ticket, now=now)
    if refund_while_stripe_answers(paid, now=now) and intents_to_cancel:
        settlement.cancel_released_intents(limit=intents_to_cancel)
    return tickets.count_holding_for_event(event_id)


def refund_while_stripe_answers(paid, *, now):
    """:return: whether Stripe answered (False: it is down; the time being up is not that)."""
    stop_at = time.monotonic() + REFUNDS_SECONDS_PER_REQUEST
    for ticket in paid:
        if time.monotonic() > stop_at:
            return True
        try:
            refund_in_full(ticket, now=now)
        except gateway.ProviderUnavailable:
            log.warning("Stripe unavailable: refunds of cancelled tickets left for later")
            return False
        except ApiError as error:
            log.error("refund of ticket %s refused by Stripe: %s", ticket["_id"], error.message)
    return True
