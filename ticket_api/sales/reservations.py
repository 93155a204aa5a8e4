"""Holding seats: a ticket for the seats taken, or the seats given back. Online (`reserve`)
and at the box office (`sell_at_box_office`): the same atomic update of the event's seats,
so neither can oversell the other."""

from datetime import timedelta

from bson import ObjectId
from pymongo.errors import PyMongoError

from ..errors import ApiError
from ..stores import events, tickets, users
from ..stores.tickets import Status
from . import seats


class DoorStaffDoNotBuy(ApiError):
    """A `door` account checks tickets in and reads the door's counts, nothing else (API.md, Roles)."""

    status_code, message, code = 403, "Door staff accounts do not buy tickets", "forbidden"


# What `reserve` refuses, for the route's documentation.
REFUSALS = (seats.EventStarted, events.EventNotFound, seats.SoldOut, seats.SeatLimit, events.EventCancelled,
            DoorStaffDoNotBuy)


def reserve(*, event_id, user_id, quantity, hold_minutes, now):
    """Hold `quantity` seats for the user: confirmed at once when free, else pending.

    The user's role is looked up (still there, and not door staff), and the seats counted
    against the event's `maxPerUser`, only once the seats are won: during a rush most
    buyers are told "sold out", and that answer should cost the database as little as
    possible.

    :return: the ticket, with its event.
    :raise EventNotFound, EventCancelled, EventStarted, SoldOut, SeatLimit: why the seats could not be taken.
    :raise UserGone: the token outlived its user. DoorStaffDoNotBuy.
    """
    event = seats.take(event_id, quantity, now=now)
    free = event["price"] == 0
    ticket = new_ticket(event, quantity, now=now, user=user_id, status=Status.CONFIRMED if free else Status.PENDING,
                        amount=event["price"] * quantity, paid_with="free" if free else None,
                        expires_at=None if free else now + timedelta(minutes=hold_minutes))
    try:
        role = users.role_of(user_id)
        if role is None:
            raise users.UserGone()
        if role == users.DOOR:
            raise DoorStaffDoNotBuy()
        seats.count_for_account(ticket, limit=events.max_per_user(event), now=now)
    except (users.UserGone, DoorStaffDoNotBuy, seats.SeatLimit, PyMongoError):
        # No ticket was stored: the seats go back. (A count written before its reply was
        # lost stays too high, the safe side, until `reconcile` corrects it.)
        events.give_back_seats(event_id, quantity, now=now)
        raise
    return {**store(ticket, now=now), "event": event}


def sell_at_box_office(*, event_id, quantity, paid_with, email=None, walk_in=None, now):
    """Sell seats for cash, or give them (`comp`), at the door: confirmed at once, to a
    walk-in (`walk_in`: name, maybe email) or else to the user with `email`. Counted
    against capacity like any sale, and in the user's seats, but not limited by
    `maxPerUser`. The show may have started: the box office sells while it is on.

    :return: the ticket, with its event and its holder (the walk-in, or the user's account).
    :raise UserGone: no user has `email`; EventNotFound, EventCancelled, SoldOut.
    """
    user = None if walk_in else users.get_by_email(email)
    if walk_in is None and user is None:
        raise users.UserGone()
    event = seats.take(event_id, quantity, now=now, after_start=True)
    ticket = new_ticket(event, quantity, now=now, user=user and user["_id"], status=Status.CONFIRMED,
                        paid_with=paid_with, amount=event["price"] * quantity if paid_with == "cash" else 0,
                        expires_at=None)
    if walk_in:
        ticket["holder"] = walk_in
    seats.count_for_account(ticket)
    holder = walk_in or {"_id": user["_id"], "username": user["username"], "email": user["email"]}
    return {**store(ticket, now=now), "event": event, "holder": holder}


def new_ticket(event, quantity, *, now, user, status, amount, paid_with, expires_at):
    return {
        "_id": ObjectId(),
        "event": event["_id"],
        "user": user,
        "quantity": quantity,
        "amount": amount,
        "currency": event["currency"],
        "status": status,
        "paidWith": paid_with,
        "expiresAt": expires_at,
        "createdAt": now,
        "updatedAt": now,
        "__v": 0,
    }


def store(ticket, *, now):
    """Store the ticket whose seats are taken; if that fails, give them back, unless the
    ticket may be stored all the same."""
    try:
        return tickets.insert(ticket)
    except PyMongoError:
        if not might_be_stored(ticket["_id"]):
            seats.give_back(ticket, now=now)
        raise


def might_be_stored(ticket_id):
    """After a failed insert: could the ticket be in the database all the same?

    A connection lost after the write leaves it stored. Seats are given back only when
    it surely is not: a seat kept too long is repaired by `reconcile`, a seat given back
    twice could be sold twice.
    """
    try:
        return tickets.exists(ticket_id)
    except PyMongoError:
        return True
