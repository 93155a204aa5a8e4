"""A succeeded payment applied to its ticket once, whoever reports it (docs/design.md, "Settlement")."""

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
    """Apply a succeeded PaymentIntent to its ticket, once: the confirmed ticket, with its event.
    :raise RefundedSeatsGone: the money went back."""
    ticket = tickets.get(ticket_id_of(intent))
    if ticket is None or (intent.amount, intent.currency) != (ticket["amount"], ticket["currency"]):
        refunds.refund_stray(intent, ticket, now=now)
        raise RefundedSeatsGone()
    if not tickets.confirm_paid(ticket["_id"], intent.id, now=now):
        ticket = tickets.get(ticket["_id"])  # changed since it was read
        if not settled_meanwhile(ticket, intent, now):
            refunds.refund_stray(intent, ticket, now=now)
            raise RefundedSeatsGone()
    payments.record(intent.id, ticket=ticket, amount=intent.amount, currency=intent.currency,
                    status="succeeded", now=now)
    return tickets.get_with_event(ticket["_id"])


def settled_meanwhile(ticket, intent, now):
    """After the confirmation missed: whether the ticket, as read again, is confirmed by this payment
    all the same (reported first by another, or its seats taken again). :raise RefundedSeatsGone:
    refunded already."""
    paid_with = ticket.get("paymentIntent")
    if ticket["status"] == Status.CONFIRMED:
        return paid_with == intent.id
    if ticket["status"] == Status.EXPIRED and paid_with in (None, intent.id):
        return retake_seats(ticket, intent.id, now=now)
    if ticket["status"] == Status.REFUNDED and paid_with == intent.id:
        raise RefundedSeatsGone()
    return False


def retake_seats(ticket, intent_id, *, now):
    """Money arrived for a lapsed hold: take its seats again if still free. :return: whether confirmed."""
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
    """`settle`, for the poll, the webhook and a released hold: a refund is an outcome, not an error,
    and a PaymentIntent naming no ticket of ours is ignored. Settled at the time Stripe answered."""
    if intent.status == "succeeded" and ticket_id_of(intent):
        with suppress(RefundedSeatsGone):
            settle(intent, now=utcnow())


def before_a_read(*, now, event_id=None):
    """Release the lapsed holds, then cancel at most `STRIPE_CANCELS_PER_REQUEST` of their PaymentIntents."""
    seats.release_lapsed_holds(now=now, event_id=event_id)
    cancel_released_intents(limit=STRIPE_CANCELS_PER_REQUEST)


def cancel_released_intents(limit=0):
    """Cancel released holds' PaymentIntents (0: all) until Stripe fails. :return: how many were settled."""
    settled = 0
    for ticket in tickets.unsettled_intents(limit):
        if not cancel_unfinished(ticket["_id"], ticket["unsettledIntent"]):
            break
        settled += 1
    return settled


def cancel_unfinished(ticket_id, intent_id):
    """Cancel a released hold's PaymentIntent, or settle it if it succeeded. :return: False if Stripe failed."""
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
