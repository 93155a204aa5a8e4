"""A succeeded payment applied to its ticket once, whatever reports it (the payer, the
poll, the webhook, a released hold's cancellation): confirmed, or its seats taken again
after its hold lapsed, or else the money given back. Nobody keeps money without a seat."""

import logging
from contextlib import suppress

from bson import ObjectId

from ..db import utcnow
from ..errors import ApiError
from ..stores import events, gateway, payments, tickets
from ..stores.tickets import Status
from . import refunds, seats

log = logging.getLogger(__name__)

# Released holds' PaymentIntents one read cancels, at most: it waits on a couple of Stripe
# calls, never on a backlog it did not ask for.
STRIPE_CANCELS_PER_REQUEST = 2


class PaymentInProgress(ApiError):
    status_code, message, code = 409, "A payment for this ticket is already in progress", "payment_in_progress"


class RefundedSeatsGone(ApiError):
    status_code, code = 409, "hold_expired"
    message = "The hold expired and its seats were sold meanwhile: the payment was refunded"


def settle(intent, *, now):
    """Apply a succeeded PaymentIntent to its ticket, once.

    :return: the confirmed ticket (with its event).
    :raise RefundedSeatsGone: the money went back.
    """
    ticket = tickets.get(ticket_id_of(intent))
    if ticket is None or (intent.amount, intent.currency) != (ticket["amount"], ticket["currency"]):
        refunds.refund_stray(intent, ticket, now=now)
        raise RefundedSeatsGone()
    if not (tickets.confirm_paid(ticket["_id"], intent.id, now=now) or settled_meanwhile(ticket["_id"], intent, now)):
        refunds.refund_stray(intent, tickets.get(ticket["_id"]), now=now)
        raise RefundedSeatsGone()
    payments.record(intent.id, ticket=ticket, amount=intent.amount, currency=intent.currency,
                    status="succeeded", now=now)
    return tickets.get_with_event(ticket["_id"])


def settled_meanwhile(ticket_id, intent, now):
    """After the ticket's confirmation missed: whether it is confirmed by this payment all
    the same (by whoever reported it first, or with its seats taken again after its hold
    lapsed).

    :raise RefundedSeatsGone: given back, this very payment refunded already.
    """
    ticket = tickets.get(ticket_id)
    paid_with = ticket.get("paymentIntent")
    if ticket["status"] == Status.CONFIRMED:
        return paid_with == intent.id
    if ticket["status"] == Status.EXPIRED and paid_with in (None, intent.id):
        return retake_seats(ticket, intent.id, now=now)
    if ticket["status"] == Status.REFUNDED and paid_with == intent.id:
        raise RefundedSeatsGone()
    return False


def retake_seats(ticket, intent_id, *, now):
    """Money arrived for a lapsed hold: take its seats again if they are still free.

    :return: whether it is confirmed by this payment (not: seats gone, event cancelled or
        started, or changed meanwhile).
    """
    try:
        seats.take(ticket["event"], ticket["quantity"], now=now)
    except (events.EventNotFound, events.EventCancelled, seats.EventStarted, seats.SoldOut):
        return False
    seats.count_for_account(ticket)  # uncapped: the money is in, the seats are free
    if tickets.confirm_paid(ticket["_id"], intent_id, now=now, from_status=Status.EXPIRED):
        return True
    seats.give_back(ticket, now=now)
    now_stored = tickets.get(ticket["_id"])  # another report of this payment may have retaken them first
    return now_stored["status"] == Status.CONFIRMED and now_stored.get("paymentIntent") == intent_id


def settle_where_nobody_waits(intent):
    """`settle` a succeeded PaymentIntent of one of our tickets, for the poll, the webhook
    and a released hold: there a refund is an outcome (the ticket says `refunded`), not an
    error, and a PaymentIntent that names no ticket of ours is not ours to refund.

    Settled at the time Stripe answered (a fresh clock): the caller may have waited on
    Stripe a while, and an event may have started meanwhile.
    """
    if intent.status == "succeeded" and ticket_id_of(intent):
        with suppress(RefundedSeatsGone):
            settle(intent, now=utcnow())


def before_a_read(*, now, event_id=None):
    """What a read of seats or tickets does first: release the lapsed holds (of one event,
    or all; `seats.release_lapsed_holds`, no Stripe), then cancel at most
    `STRIPE_CANCELS_PER_REQUEST` released holds' PaymentIntents, so that a late
    confirmation in the browser cannot charge (the rest: later reads, `flask reconcile`)."""
    seats.release_lapsed_holds(now=now, event_id=event_id)
    cancel_released_intents(limit=STRIPE_CANCELS_PER_REQUEST)


def cancel_released_intents(limit=0):
    """Cancel the PaymentIntents of released holds (`unsettledIntent`; 0: all of them),
    until Stripe fails: the rest stay recorded, for later. :return: how many were settled."""
    settled = 0
    for ticket in tickets.unsettled_intents(limit):
        if not cancel_unfinished(ticket["_id"], ticket["unsettledIntent"]):
            break
        settled += 1
    return settled


def cancel_unfinished(ticket_id, intent_id):
    """Cancel a released hold's PaymentIntent; if it already succeeded, settle it (seats
    re-taken, or the money refunded). With Stripe down it stays recorded, for later.

    :return: whether it is settled (False: Stripe failed).
    """
    try:
        settle_where_nobody_waits(gateway.cancel_intent(intent_id))
    except ApiError as error:
        log.warning("could not cancel %s: %s", intent_id, error.message)
        return False
    tickets.intent_settled(ticket_id, intent_id)
    return True


def ticket_id_of(stripe_object):
    """The ticket a PaymentIntent is for (its metadata), or None."""
    metadata = getattr(stripe_object, "metadata", None)
    ticket_id = metadata.to_dict().get("ticketId") if metadata else None
    return ObjectId(ticket_id) if ticket_id and ObjectId.is_valid(ticket_id) else None


def error_message(stripe_object):
    error = getattr(stripe_object, "last_payment_error", None)
    message = error.to_dict().get("message") if hasattr(error, "to_dict") else None  # a Stripe object, not text
    return message if isinstance(message, str) else None
