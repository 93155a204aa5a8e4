"""Seats taken and given back, with the account's count beside the event's counter, and
lapsed holds released lazily by whoever needs their seats. Never calls Stripe."""

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
    """Take the seats in one conditional update of the event, or say why not; when too
    few are left, the event's lapsed holds are released first and the seats tried again.

    The event is read, the rule decided on what was read, and the update's filter
    re-checks it on the stored event; when the event changed in between, it is read
    again (a bounded number of times).

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
            if not release_lapsed_holds(now=now, event_id=event_id):
                raise SoldOut()
        elif (taken := events.take_seats(event, quantity, now=now, after_start=after_start)) is not None:
            return taken
        event = events.get(event_id)
    raise KeptChanging(f"event {event_id}: seats not taken after {MAX_ATTEMPTS} attempts")


def count_for_account(ticket, *, limit=None, now=None):
    """Count the ticket's seats against its account's `limit` for the event (None:
    uncapped); at the limit, the event's lapsed holds (maybe the account's own) are
    released first, if it has any (`now` given), and the count tried again.

    :raise SeatLimit: the account would hold more than `limit` seats of the event.
    """
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
    """After a status change of `ticket` that leaves it holding no seats: when this call's
    write won it (`won`), its seats go back, so exactly once. :return: `won`."""
    if won:
        give_back(ticket, now=now)
    return won


def release_lapsed_holds(*, now, event_id=None):
    """Expire the lapsed holds (of one event, or all) and give their seats back, each once
    whoever races (`tickets.expire` is conditional). A hold's PaymentIntent is recorded on
    it to cancel (`unsettledIntent`), by `settlement.cancel_released_intents`.

    :return: how many holds this call released.
    """
    return sum(given_back_if(tickets.expire(ticket, now=now), ticket, now=now)
               for ticket in tickets.lapsed_holds(now=now, event_id=event_id))
