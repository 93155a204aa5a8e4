"""The `card_declines` collection: each declined payment attempt, for the card-testing limits."""

from ..db import get_db


def record_decline(*, ticket_id, user_id, now):
    get_db().card_declines.insert_one({"ticket": ticket_id, "user": user_id, "at": now})


def declines_since(since, *, ticket_id):
    return get_db().card_declines.count_documents({"ticket": ticket_id, "at": {"$gt": since}})


def declines_of_user_since(since, *, user_id):
    return get_db().card_declines.count_documents({"user": user_id, "at": {"$gt": since}})
