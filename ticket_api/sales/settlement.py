"""Money and seats end up together: a succeeded payment applied once, whatever reports
it; a lapsed hold released with its PaymentIntent cancelled; a refund made once.

These call each other in a loop, so they live in one module: settling money that arrived
for a lapsed hold takes its seats again, taking seats may release other lapsed holds,
and a released hold whose PaymentIntent already succeeded is settled in turn. The loop
ends: each hold is released at most once.
"""

import logging
from contextlib import suppress
from datetime import timedelta

from bson import ObjectId

from ..db import utcnow
from ..errors import MAX_ATTEMPTS, ApiError, KeptChanging
from ..stores import events, gateway, payments, tickets
from . import seats

log = logging.getLogger(__name__)

# Released holds' PaymentIntents one request cancels, at most: it waits on a couple of
# Stripe calls, never on a backlog it did not ask for (API.md, "Payment").
STRIPE_CANCELS_PER_REQUEST = 2
# A ticket's payment is asked of Stripe at most this often, however often it is polled.
STRIPE_CHECK_EVERY = timedelta(seconds=3)


class PaymentInProgress(ApiError):
    status_code, message, code = 409, "A payment for this ticket is already in progress", "payment_in_progress"


class RefundedSeatsGone(ApiError):
    status_code, code = 409, "hold_expired"
    message = "The hold expired and its seats were sold meanwhile: the payment was refunded"


def take_seats_releasing_lapsed_holds(event_id, quantity, *, now, after_start=False):
    """`seats.take`; when too few are left, the event's lapsed holds are released first
    (if it has any) and the seats tried again. The scan for lapsed holds is spared while
    seats are plentiful, and never skipped when it matters.

    :return: the event with the seats taken.
    :raise EventNotFound, EventCancelled, EventStarted, SoldOut: why they could not be.
    """
    for _ in range(MAX_ATTEMPTS):
        try:
            return seats.take(event_id, quantity, now=now, after_start=after_start)
        except seats.SoldOut:
            if not release_lapsed_holds(now=now, event_id=event_id):
                raise
    raise KeptChanging(f"event {event_id}: lapsed holds released {MAX_ATTEMPTS} times, seats still short")


def hold_for_user_releasing_lapsed_holds(ticket, *, limit, now):
    """`seats.hold_for_user`; when the user's limit is reached, the event's lapsed holds
    (maybe the user's own) are released first, if it has any, and the count tried again.

    :raise SeatLimit: the user's pending and confirmed seats would pass `limit`.
    """
    try:
        seats.hold_for_user(ticket, limit=limit)
    except seats.SeatLimit:
        if not release_lapsed_holds(now=now, event_id=ticket["event"]):
            raise
        seats.hold_for_user(ticket, limit=limit)


def release_lapsed_holds(*, now, event_id=None):
    """Release the lapsed holds (of one event, or all), seats back once each, then cancel
    a few released holds' PaymentIntents (so a late confirmation in the browser cannot
    charge for seats that are gone).

    Each release records its PaymentIntent on the ticket in the same write; this request
    cancels at most `STRIPE_CANCELS_PER_REQUEST` of them, the oldest first, so it never
    waits on Stripe for more than a couple of calls whatever it found lapsed. Later
    requests and `flask reconcile` cancel the rest; a payment that succeeds meanwhile is
    settled by its webhook (seats re-taken, or refunded).

    :return: how many holds this process released.
    """
    released = sum(seats.release(ticket, now=now) for ticket in tickets.lapsed_holds(now=now, event_id=event_id))
    cancel_unsettled_intents(limit=STRIPE_CANCELS_PER_REQUEST)
    return released


def cancel_unsettled_intents(limit=0):
    """Cancel released holds' PaymentIntents still recorded as unsettled (0: all of them),
    until Stripe fails: the rest stay recorded, for later."""
    for ticket in tickets.unsettled_intents(limit):
        if not cancel_unfinished(ticket["_id"], ticket["unsettledIntent"]):
            return


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


def settle(intent, *, now):
    """Apply a succeeded PaymentIntent to its ticket, once, whatever reports it.

    Confirms the pending ticket; for a lapsed hold, takes its seats again if they are
    still free; otherwise refunds at once. Nobody keeps money without a seat.

    :return: the confirmed ticket (with its event).
    :raise RefundedSeatsGone: the money went back.
    """
    ticket = tickets.get(ticket_id_of(intent))
    if ticket is None or intent.amount != ticket["amount"] or intent.currency != ticket["currency"]:
        refund(intent, ticket, now=now)
        raise RefundedSeatsGone()
    confirmed = tickets.confirm_paid(ticket["_id"], intent.id, now=now)
    if not confirmed:
        ticket = tickets.get(ticket["_id"])
        if ticket["status"] == "confirmed" and ticket.get("paymentIntent") == intent.id:
            confirmed = True  # settled already, by whoever reported it first
        elif ticket["status"] == "expired" and ticket.get("paymentIntent") in (None, intent.id):
            confirmed = retake_seats(ticket, intent.id, now=now)
        elif ticket["status"] == "refunded" and ticket.get("paymentIntent") == intent.id:
            raise RefundedSeatsGone()  # given back, this very payment refunded already: nothing to do
    if not confirmed:
        refund(intent, ticket, now=now)
        raise RefundedSeatsGone()
    payments.record(intent.id, ticket=ticket, amount=intent.amount, currency=intent.currency,
                          status="succeeded", now=now)
    return tickets.get_with_event(ticket["_id"])


def settle_where_nobody_waits(intent):
    """`settle` a succeeded PaymentIntent of one of our tickets, for the poll, the webhook
    and a released hold: there a refund is an outcome (the ticket says `refunded`), not an
    error, and a PaymentIntent that names no ticket of ours is not ours to refund.

    Settled at the time Stripe answered (a fresh clock, not the caller's `now`): the
    request may have waited on Stripe a while, and an event may have started meanwhile.
    """
    if intent.status == "succeeded" and ticket_id_of(intent):
        with suppress(RefundedSeatsGone):
            settle(intent, now=utcnow())


def retake_seats(ticket, intent_id, *, now):
    """Money arrived for a lapsed hold: take its seats again if they are still free.

    :return: whether it is confirmed (not: seats gone, event cancelled or started, or changed meanwhile).
    """
    try:
        take_seats_releasing_lapsed_holds(ticket["event"], ticket["quantity"], now=now)
    except (events.EventNotFound, events.EventCancelled, seats.EventStarted, seats.SoldOut):
        return False
    seats.hold_for_user(ticket)  # uncapped: the money is in, the seats are free
    confirmed = tickets.confirm_paid(ticket["_id"], intent_id, now=now, from_status="expired")
    if not confirmed:
        seats.give_back(ticket, now=now)
    return confirmed


def refund(intent, ticket, *, now):
    """Give back money that found no ticket to confirm (its ticket, if any, ends `refunded`)."""
    if refund_in_full(intent.id, amount=intent.amount, currency=intent.currency, ticket=ticket,
                      statuses=("expired", "cancelled"), now=now):
        log.warning("refunded %s: its ticket could not be confirmed", intent.id)


def refund_in_full(intent_id, *, amount, currency, ticket, statuses, now):
    """Give a payment back, once: the first caller claims the refund, the others skip it.
    The ticket (if any), when in one of `statuses`, ends `refunded` and its seats go back.

    A claim left by a process that died half-way is taken over after `CHARGE_GRACE`
    (longer than any Stripe call), and Stripe is asked first whether the refund was made:
    the stand-in ignores idempotency keys, and real Stripe keeps them only 24 hours.

    :return: whether the refund is made (False: someone else is making it).
    :raise ApiError: Stripe refused or is down; the claim is dropped, nothing changed.
    """
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
        payments.refund_done(intent_id, ticket_id=ticket and ticket["_id"], amount=amount,
                                   currency=currency, now=now)
    if ticket is not None:
        mark_refunded_and_free_seats(ticket["_id"], now=now, statuses=statuses)
    return True


def mark_refunded_and_free_seats(ticket_id, *, now, statuses):
    """The ticket's money went back: `refunded`; a ticket that held seats gives them back."""
    before = tickets.mark_refunded(ticket_id, now=now, statuses=statuses)
    if before is not None and before["status"] in tickets.HOLDING:
        seats.give_back(before, now=now)


def refresh(ticket, *, now):
    """Ask Stripe about a pending ticket's payment and apply what it says (for polling).

    Also while a charge is marked in flight: settling is idempotent, and it recovers a
    charge whose confirmation could not be written (a database fault after Stripe said yes).
    Stripe is asked at most once every `STRIPE_CHECK_EVERY` per ticket, however many poll.
    Stripe being down is logged, not an error: the ticket is shown as stored.

    :return: the ticket with its event, as it is now.
    """
    if ticket["status"] == "pending" and ticket.get("paymentIntent") and tickets.claim_stripe_check(
        ticket["_id"], now=now, every=STRIPE_CHECK_EVERY
    ):
        try:
            intent = gateway.retrieve_intent(ticket["paymentIntent"])
            if intent.status == "succeeded":
                settle_where_nobody_waits(intent)
            elif error_message(intent):
                tickets.end_charge(ticket["_id"], error=error_message(intent), now=now)
        except ApiError as error:
            log.warning("could not refresh %s: %s", ticket["paymentIntent"], error.message)
    return tickets.get_with_event(ticket["_id"])


def ticket_id_of(stripe_object):
    """The ticket a PaymentIntent is for (its metadata), or None."""
    metadata = getattr(stripe_object, "metadata", None)
    ticket_id = metadata.to_dict().get("ticketId") if metadata else None
    return ObjectId(ticket_id) if ticket_id and ObjectId.is_valid(ticket_id) else None


def error_message(stripe_object):
    error = getattr(stripe_object, "last_payment_error", None)
    message = error.to_dict().get("message") if hasattr(error, "to_dict") else None  # a Stripe object, not text
    return message if isinstance(message, str) else None
