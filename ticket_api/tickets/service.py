"""The `tickets` collection: the only code that reads or writes it."""

from ..db import get_db

WITH_EVENT = [
    {"$lookup": {"from": "events", "localField": "event", "foreignField": "_id", "as": "event"}},
    {"$unwind": "$event"},
]


def list_for_user(user_id):
    """The user's tickets, newest first, each with its event, in one aggregation."""
    pipeline = [{"$match": {"user": user_id}}, {"$sort": {"createdAt": -1}}, *WITH_EVENT]
    return list(get_db().tickets.aggregate(pipeline))
