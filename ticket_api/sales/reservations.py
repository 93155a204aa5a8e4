"""Holding seats, online (`reserve`) and at the box office, by the same atomic update of the event."""

from datetime import timedelta

from bson import ObjectId
from pymongo.errors import PyMongoError

from ..errors import ApiError
from ..stores import events, tickets, users
from ..stores.tickets import Status
from . import seats


class DoorStaffDoNotBuy(ApiError):
    status_code, message, code = 403, "Door staff accounts do not buy tickets", "forbidden"


# What `reserve` refuses, for the route's documentation.
REFUSALS = (seats.EventStarted, events.EventNotFound, seats.SoldOut, seats.SeatLimit, events.EventCancelled,
            DoorStaffDoNotBuy)


def reserve(*, event_id, user_id, quantity, hold_minutes, now):
    """Hold `quantity` seats for the user: confirmed at once when free, else pending. The role and
    `maxPerUser` are checked only once the seats are won (docs/design.md, "Seats").
    :return: the ticket, with its event. :raise ApiError: one of `REFUSALS`, or UserGone."""
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
    """Sell seats for cash, or give them (`comp`), confirmed at once, to a walk-in or the user with
    `email`; not limited by `maxPerUser`, and while the show is on. :return: the ticket, with its
    event and holder. :raise UserGone: no user has `email`; EventNotFound, EventCancelled, SoldOut."""
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
    """Store the ticket whose seats are taken; if that fails, give them back unless it may be stored."""
    try:
        return tickets.insert(ticket)
    except PyMongoError:
        if not might_be_stored(ticket["_id"]):
            seats.give_back(ticket, now=now)
        raise


def might_be_stored(ticket_id):
    """After a failed insert: could the ticket be stored all the same? (When unsure: yes.)"""
    try:
        return tickets.exists(ticket_id)
    except PyMongoError:
        return True
