"""Recompute each event's seat counter from its tickets: the operator's safety net.

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

import time
from dataclasses import dataclass

from .. import events, tickets
from . import settlement

SETTLE_SECONDS = 2.0


@dataclass
class Drift:
    event_id: object
    name: str
    counted: int
    held: int
    repaired: bool


def find_drifts(*, repair, now, settle_seconds=SETTLE_SECONDS):
    """Compare every event's counter with the seats its tickets hold; repair when asked.

    :return: (the drifts, how many events were checked).
    """
    settlement.release_lapsed_holds(now=now)
    settlement.cancel_unsettled_intents()  # all that requests left, each a couple at a time
    counters = events.store.seat_counters()
    holdings = tickets.store.holdings()
    time.sleep(settle_seconds)
    held = tickets.store.seats_held_by_event()
    drifts = []
    for event in counters:
        seats = held.get(event["_id"], 0)
        if seats != event["seatsTaken"]:
            repaired = repair and events.store.correct_seats(event, seats, now=now)
            drifts.append(Drift(event["_id"], event["name"], event["seatsTaken"], seats, repaired))
    if repair:
        correct_holdings(holdings, tickets.store.seats_held_by_user())
    return drifts, len(counters)


def correct_holdings(holdings, held):
    """Each account's seats per event, as counted against `maxPerUser`, set to what its
    tickets hold (too high after a crash between counting and storing a ticket)."""
    for holding in holdings:
        seats = held.get((holding["_id"]["event"], holding["_id"]["user"]), 0)
        if seats != holding["seats"]:
            tickets.store.correct_holding(holding, seats)
