"""The operator's safety net: what dead requests left half-done (a charge in flight, a
refund claimed, a cancelled event's tickets) is asked of Stripe and finished, and each
event's seat counter and each account's count are recomputed from the tickets; safe while
the service sells (docs/design.md, "Reconcile")."""

import logging
import time
from dataclasses import dataclass

from ..errors import ApiError
from ..stores import events, gateway, holdings, payments, tickets
from . import cancellation, refunds, seats, settlement

log = logging.getLogger(__name__)

SETTLE_SECONDS, MAX_SETTLE_SECONDS = 2, 3600  # whole seconds: `time.sleep` takes no NaN or negative


@dataclass
class Drift:
    event_id: object
    name: str
    counted: int
    held: int
    repaired: bool


@dataclass
class Finished:
    """Something found half-done (`charge`, `refund`, `cancelled_event`) and its `outcome`, for `cli.py`."""

    kind: str
    id: object
    outcome: str
    detail: object = None  # Stripe's error message, the ticket's status now, or the tickets left


def settle_with_stripe(*, now):
    """Settle each charge and refund left half-done with Stripe, and the cancelled events' tickets."""
    done = [finish_charge(ticket, now=now) for ticket in tickets.charges_left(now=now)]
    left = payments.refunds_left(now=now, stale_after=tickets.CHARGE_GRACE)
    done += [finish_refund(intent_id, now=now) for intent_id in left]
    done += [Finished("cancelled_event", event_id, "settled", cancellation.settle_cancelled_event(event_id, now=now))
             for event_id in events.cancelled_ids() if tickets.count_holding_for_event(event_id)]
    return done


def give_missing_codes():
    """Give a door code to each ticket stored before codes existed. :return: how many."""
    given = 0
    while batch := tickets.without_code(limit=1000):
        for ticket in batch:
            tickets.give_code(ticket["_id"])
        given += len(batch)
    return given


def finish_charge(ticket, *, now):
    if not ticket.get("paymentIntent"):
        tickets.drop_charge_claim(ticket["_id"], now=now)
        return Finished("charge", ticket["_id"], "no_intent")
    try:
        intent = gateway.retrieve_intent(ticket["paymentIntent"])
    except ApiError as error:
        return Finished("charge", ticket["_id"], "stripe_unavailable", error.message)
    if intent.status == "succeeded":
        settlement.settle_where_nobody_waits(intent)
        return Finished("charge", ticket["_id"], "paid", tickets.get(ticket["_id"])["status"])
    tickets.end_charge(ticket["_id"], error=settlement.error_message(intent), now=now)
    return Finished("charge", ticket["_id"], "unpaid", intent.status)


def finish_refund(intent_id, *, now):
    try:
        intent = gateway.retrieve_intent(intent_id)
        ticket = tickets.get(settlement.ticket_id_of(intent))
        own = ticket is not None and ticket.get("paymentIntent") == intent_id
        refunded = refunds.refund(intent_id, amount=intent.amount, currency=intent.currency, ticket=ticket, own=own,
                                  now=now)
    except ApiError as error:
        return Finished("refund", intent_id, "stripe_unavailable", error.message)
    if not refunded:
        return Finished("refund", intent_id, "taken_over")
    return Finished("refund", intent_id, "refunded", ticket and (ticket["_id"], tickets.get(ticket["_id"])["status"]))


def find_drifts(*, repair, now, settle_seconds=SETTLE_SECONDS):
    """Compare every event's counter with the seats its tickets hold; repair when asked.
    :return: (the drifts, how many events were checked)."""
    seats.release_lapsed_holds(now=now)
    settlement.cancel_released_intents()
    counters = events.seat_counters()
    counts = holdings.every()
    time.sleep(settle_seconds)
    held = tickets.seats_held_by_event()
    drifts = []
    for event in counters:
        held_seats = held.get(event["_id"], 0)
        if held_seats != event["seatsTaken"]:
            repaired = repair and events.correct_seats(event, held_seats, now=now)
            drifts.append(Drift(event["_id"], event["name"], event["seatsTaken"], held_seats, repaired))
    if repair:
        correct_holdings(counts, tickets.seats_held_by_user())
    return drifts, len(counters)


def correct_holdings(counts, held):
    """Set each account's seat count per event to what its tickets hold."""
    for holding in counts:
        held_seats = held.get((holding["_id"]["event"], holding["_id"]["user"]), 0)
        if held_seats != holding["seats"]:
            holdings.correct(holding, held_seats)
