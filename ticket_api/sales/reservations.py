"""Holding seats: a ticket for the seats taken, or the seats given back."""

from datetime import timedelta

from bson import ObjectId
from pymongo.errors import PyMongoError

from .. import auth, events, tickets
from . import seats, settlement


def reserve(*, event_id, user_id, quantity, hold_minutes, now):
    """Hold `quantity` seats for the user: confirmed at once when free, else pending.

    The user is read, and the seats counted against the event's `maxPerUser`, only once
    the seats are won: during a rush most buyers are told "sold out", and that answer
    should cost the database as little as possible.

    :return: the ticket, with its event.
    :raise EventNotFound, EventCancelled, EventStarted, SoldOut, SeatLimit: why the seats could not be taken.
    :raise UserGone: the token outlived its user.
    """
    event = settlement.take_seats_releasing_lapsed_holds(event_id, quantity, now=now)
    ticket = {
        "_id": ObjectId(),
        "event": event_id,
        "user": user_id,
        "quantity": quantity,
        "amount": event["price"] * quantity,
        "currency": event["currency"],
        "status": "confirmed" if event["price"] == 0 else "pending",
        "paidWith": "free" if event["price"] == 0 else None,
        "expiresAt": None if event["price"] == 0 else now + timedelta(minutes=hold_minutes),
        "createdAt": now,
        "updatedAt": now,
        "__v": 0,
    }
    try:
        if auth.store.get(user_id) is None:
            raise auth.store.UserGone()
        settlement.hold_for_user_releasing_lapsed_holds(ticket, limit=events.store.max_per_user(event), now=now)
    except (auth.store.UserGone, seats.SeatLimit):
        events.store.give_back_seats(event_id, quantity, now=now)
        raise
    try:
        ticket = tickets.store.insert(ticket)
    except PyMongoError:
        if not might_be_stored(ticket["_id"]):
            seats.give_back(ticket, now=now)
        raise
    return {**ticket, "event": event}


def might_be_stored(ticket_id):
    """After a failed insert: could the ticket be in the database all the same?

    A connection lost after the write leaves it stored. Seats are given back only when
    it surely is not: a seat kept too long is repaired by `reconcile`, a seat given back
    twice could be sold twice.
    """
    try:
        return tickets.store.exists(ticket_id)
    except PyMongoError:
        return True
