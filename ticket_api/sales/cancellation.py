"""Tickets given back: seats back once and money back once, whatever races.

A pending hold ends `cancelled` as a lapsed one ends `expired` (one conditional write,
its PaymentIntent recorded in it and then cancelled, so a late confirmation in the
browser cannot charge; money that got through anyway is refunded by `settlement`). A
ticket no card paid for ends `cancelled`; a card-paid one is refunded in full and ends
`refunded` (`settlement.refund_in_full`: one claim per payment, taken before Stripe is
called).
"""

from .. import events, tickets
from ..errors import ApiError
from . import seats, settlement
from .settlement import PaymentInProgress


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
    """Give the ticket back: its hold released, or its money refunded in full.

    The holder may refund a card-paid ticket only before its event's `refundDeadline`,
    and give back no ticket once it was used at the door; staff always may.

    :return: the ticket with its event, as it is now.
    :raise NotCancellable, RefundNotAllowed, CheckedIn, PaymentInProgress,
        RefundInProgress; the gateway's errors (Stripe down: nothing changed).
    """
    if ticket["status"] == "pending":
        give_up_hold(ticket, now=now)
    elif ticket["status"] == "confirmed":
        if not by_staff:
            check_holder_may_cancel(ticket, now=now)
        if ticket.get("paymentIntent"):
            refund(ticket, now=now)
        elif tickets.store.cancel_unpaid(ticket["_id"], now=now):
            seats.give_back(ticket, now=now)
        else:
            raise NotCancellable(tickets.store.get(ticket["_id"])["status"])
    else:
        raise NotCancellable(ticket["status"])
    return tickets.store.get_with_event(ticket["_id"])


def check_holder_may_cancel(ticket, *, now):
    if ticket.get("checkedInAt"):
        raise CheckedIn()
    if ticket.get("paymentIntent"):
        deadline = events.store.get(ticket["event"]).get("refundDeadline")
        if deadline is None or now > deadline:
            raise RefundNotAllowed()


def give_up_hold(ticket, *, now):
    """Release a pending hold at once, then cancel its PaymentIntent (a payment that
    succeeded meanwhile is refunded by `settlement.cancel_unfinished`)."""
    if not tickets.store.cancel_hold(ticket, now=now):
        status = tickets.store.get(ticket["_id"])["status"]
        raise PaymentInProgress() if status == "pending" else NotCancellable(status)  # pending: a charge began
    seats.give_back(ticket, now=now)
    if ticket.get("paymentIntent"):
        settlement.cancel_unfinished(ticket["_id"], ticket["paymentIntent"])


def refund(ticket, *, now):
    refunded = settlement.refund_in_full(
        ticket["paymentIntent"], amount=ticket["amount"], currency=ticket["currency"], ticket=ticket,
        statuses=("confirmed",), now=now,
    )
    if not refunded:
        current = tickets.store.get(ticket["_id"])
        raise RefundInProgress() if current["status"] == "confirmed" else NotCancellable(current["status"])
