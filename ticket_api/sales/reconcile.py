"""The operator's safety net: what dead requests left half-done is asked of Stripe and
settled, and each event's seat counter is recomputed from its tickets.

A request that dies while charging leaves its ticket marked as being charged (the money
may be at Stripe, our data not told); one that dies while refunding leaves the refund
claimed (made at Stripe or not). Past `tickets.CHARGE_GRACE`, longer than any Stripe
call, nobody is still at it: `settle_with_stripe` asks Stripe and finishes each.

Seats are counted twice: in each event's `seatsTaken`, moved by atomic updates, and in
the pending and confirmed tickets themselves. A process that dies between taking seats
and storing the ticket (or between expiring a hold and giving its seats back) leaves
the counter too high: seats nobody holds, never sold. This finds and repairs that.

It is safe while the service sells: each event's counter is read with its version
(`__v`, bumped by every update), then the tickets are summed after a settle delay that
lets reservations caught mid-way store their tickets, and the correction is applied only
if the event's version is still the one read. An event that changed meanwhile is left
for the next run.
"""

import logging
import time
from dataclasses import dataclass

from ..errors import ApiError
from ..stores import events, gateway, holdings, payments, tickets
from . import cancellation, settlement

log = logging.getLogger(__name__)

SETTLE_SECONDS, MAX_SETTLE_SECONDS = 2, 3600  # whole seconds: `time.sleep` takes no NaN or negative


@dataclass
class Drift:
    event_id: object
    name: str
    counted: int
    held: int
    repaired: bool


def settle_with_stripe(*, now):
    """Ask Stripe about every charge and refund left half-done, and settle each.

    :return: one line per ticket or payment, saying what was found and done.
    """
    done = [finish_charge(ticket, now=now) for ticket in tickets.charges_left(now=now)]
    stale_after = tickets.CHARGE_GRACE
    done += [finish_refund(intent_id, now=now) for intent_id in payments.refunds_left(now=now,
                                                                                           stale_after=stale_after)]
    done += [finish_cancelled_event(event_id, now=now) for event_id in events.cancelled_ids()
             if tickets.count_holding_for_event(event_id)]
    return done


def give_missing_codes():
    """Give a door code to each ticket stored before codes existed. :return: how many."""
    given = 0
    while batch := tickets.without_code(limit=1000):
        for ticket in batch:
            tickets.give_code(ticket["_id"])
        given += len(batch)
    return given


def finish_cancelled_event(event_id, *, now):
    left = cancellation.settle_cancelled_event(event_id, now=now)
    return f"event {event_id}: cancelled, its tickets settled" + (f" but {left} (run again)" if left else "")


def finish_charge(ticket, *, now):
    said = f"ticket {ticket['_id']}: a charge left in flight"
    if not ticket.get("paymentIntent"):
        tickets.drop_charge_claim(ticket["_id"], now=now)
        return f"{said}, no PaymentIntent made: the hold can be paid again"
    try:
        intent = gateway.retrieve_intent(ticket["paymentIntent"])
    except ApiError as error:
        return f"{said}: Stripe could not be asked ({error.message}): left for the next run"
    if intent.status == "succeeded":
        settlement.settle_where_nobody_waits(intent)
        return f"{said}, paid at Stripe: the ticket is {tickets.get(ticket['_id'])['status']}"
    tickets.end_charge(ticket["_id"], error=settlement.error_message(intent), now=now)
    return f"{said}, {intent.status} at Stripe: the hold can be paid again"


def finish_refund(intent_id, *, now):
    said = f"payment {intent_id}: a refund left half-made"
    try:
        intent = gateway.retrieve_intent(intent_id)
        ticket = tickets.get(settlement.ticket_id_of(intent))
        statuses = ("expired", "cancelled")
        if ticket is not None and ticket.get("paymentIntent") == intent_id:
            statuses += ("confirmed",)  # its own payment, being refunded: not a stray one
        refunded = settlement.refund_in_full(intent_id, amount=intent.amount, currency=intent.currency,
                                             ticket=ticket, statuses=statuses, now=now)
    except ApiError as error:
        return f"{said}: Stripe could not be asked ({error.message}): left for the next run"
    if not refunded:
        return f"{said}: taken over by another process meanwhile"
    return f"{said}: refunded" + (f", ticket {ticket['_id']} is {tickets.get(ticket['_id'])['status']}"
                                  if ticket else "")


def find_drifts(*, repair, now, settle_seconds=SETTLE_SECONDS):
    """Compare every event's counter with the seats its tickets hold; repair when asked.

    :return: (the drifts, how many events were checked).
    """
    settlement.release_lapsed_holds(now=now)
    settlement.cancel_unsettled_intents()  # all that requests left, each a couple at a time
    counters = events.seat_counters()
    counts = holdings.holdings()
    time.sleep(settle_seconds)
    held = tickets.seats_held_by_event()
    drifts = []
    for event in counters:
        seats = held.get(event["_id"], 0)
        if seats != event["seatsTaken"]:
            repaired = repair and events.correct_seats(event, seats, now=now)
            drifts.append(Drift(event["_id"], event["name"], event["seatsTaken"], seats, repaired))
    if repair:
        correct_holdings(counts, tickets.seats_held_by_user())
    return drifts, len(counters)


def correct_holdings(counts, held):
    """Each account's seats per event, as counted against `maxPerUser`, set to what its
    tickets hold (too high after a crash between counting and storing a ticket)."""
    for holding in counts:
        seats = held.get((holding["_id"]["event"], holding["_id"]["user"]), 0)
        if seats != holding["seats"]:
            holdings.correct_holding(holding, seats)
