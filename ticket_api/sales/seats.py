"""Seats taken and given back: the only code that moves an event's counter with a ticket.

A pending ticket whose hold has lapsed is released lazily, by whoever reads availability
or takes seats next: a conditional update that exactly one process wins gives its seats
back once. This module never calls Stripe: `settlement.release_lapsed_holds` releases
each hold here and cancels its PaymentIntent at once.
"""

from ..errors import MAX_ATTEMPTS, ApiError, KeptChanging
from ..stores import events, holdings, tickets


class EventStarted(ApiError):
    status_code, message, code = 400, "Event already started", "event_started"


class SoldOut(ApiError):
    status_code, message, code = 409, "Sold out", "sold_out"


class SeatLimit(ApiError):
    status_code, message, code = 409, "No more seats for this account: the event's limit per account is reached", \
        "seat_limit"


def take(event_id, quantity, *, now, after_start=False):
    """Take the seats in one conditional update of the event, or say why not.

    The event is read, the rule decided on what was read, and the update's filter
    re-checks it on the stored event; when the event changed in between, it is read
    again (a bounded number of times).
    Lapsed holds are not released here: see `settlement.take_seats_releasing_lapsed_holds`.

    :param after_start: for the box office, which sells while the show is on.
    :return: the event with the seats taken.
    :raise EventNotFound, EventCancelled, EventStarted, SoldOut: why they could not be taken.
    """
    event = events.get(event_id)
    for _ in range(MAX_ATTEMPTS):
        if event is None:
            raise events.EventNotFound()
        if events.status_of(event) == events.CANCELLED:
            raise events.EventCancelled()
        if event["date"] <= now and not after_start:
            raise EventStarted()
        if event["capacity"] - event["seatsTaken"] < quantity:
            raise SoldOut()
        if (taken := events.take_seats(event, quantity, now=now, after_start=after_start)) is not None:
            return taken
        event = events.get(event_id)
    raise KeptChanging(f"event {event_id}: seats not taken after {MAX_ATTEMPTS} attempts")


def hold_for_user(ticket, *, limit=None):
    """Count the ticket's seats against its user's limit for the event (`limit` None:
    uncapped, for money that arrived for a lapsed hold).

    :raise SeatLimit: the user would hold more than `limit` seats of the event.
    """
    if not holdings.hold_for_user(ticket["event"], ticket["user"], ticket["quantity"], limit=limit):
        raise SeatLimit()


def give_back(ticket, *, now):
    """The ticket's seats go back to its event, and stop counting against its user."""
    events.give_back_seats(ticket["event"], ticket["quantity"], now=now)
    holdings.release_for_user(ticket["event"], ticket["user"], ticket["quantity"])


def release(ticket, *, now):
    """Expire a lapsed hold (as found by `tickets.lapsed_holds`) and give its seats
    back, if this process wins the expiry: exactly one of any number of callers does.
    Its PaymentIntent is left to the caller (`settlement.release_lapsed_holds`).

    :return: whether this call released it.
    """
    if not tickets.expire(ticket, now=now):
        return False
    give_back(ticket, now=now)
    return True
