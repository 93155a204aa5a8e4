"""Seats taken and given back, the account's count beside the event's, lapsed holds released; never Stripe."""

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
    """Take the seats in one conditional update of the event, decided first on the event as
    this worker read it lately (`events.recent`), re-read when the update missed; lapsed
    holds are released when too few are left (docs/design.md, "Seats").
    :return: the event with the seats taken.
    :raise EventNotFound, EventCancelled, EventStarted, SoldOut: why they could not be taken."""
    event = events.recent(event_id)
    for _ in range(MAX_ATTEMPTS):
        if event is None:
            raise events.EventNotFound()
        if events.status_of(event) == events.CANCELLED:
            raise events.EventCancelled()
        if event["date"] <= now and not after_start:
            raise EventStarted()
        if event["capacity"] - event["seatsTaken"] < quantity:
            if not release_lapsed_holds(now=now, event_id=event_id):
                raise SoldOut()
        elif (taken := events.take_seats(event, quantity, now=now, after_start=after_start)) is not None:
            return taken
        event = events.get(event_id)
    raise KeptChanging(f"event {event_id}: seats not taken after {MAX_ATTEMPTS} attempts")


def count_for_account(ticket, *, limit=None, now=None):
    """Count the ticket's seats against the account's `limit` (None: uncapped); at the limit, given
    `now`, the event's lapsed holds (maybe the account's own) are released and the count tried again.
    :raise SeatLimit:"""
    def counted():
        return holdings.add(ticket["event"], ticket["user"], ticket["quantity"], limit=limit)

    if counted():
        return
    if now is None or not release_lapsed_holds(now=now, event_id=ticket["event"]) or not counted():
        raise SeatLimit()


def give_back(ticket, *, now):
    """The ticket's seats go back to its event, and stop counting against its account."""
    events.give_back_seats(ticket["event"], ticket["quantity"], now=now)
    holdings.subtract(ticket["event"], ticket["user"], ticket["quantity"])


def given_back_if(won, ticket, *, now):
    """When this call's status change won (`won`), the ticket's seats go back: exactly once. :return: `won`."""
    if won:
        give_back(ticket, now=now)
    return won


def release_lapsed_holds(*, now, event_id=None):
    """Expire lapsed holds (of one event, or all), seats back once each. :return: how many this call did."""
    return sum(given_back_if(tickets.expire(ticket, now=now), ticket, now=now)
               for ticket in tickets.lapsed_holds(now=now, event_id=event_id))
