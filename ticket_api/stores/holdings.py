"""The `holdings` collection: per (event, user), the seats that user's pending and
confirmed tickets hold, against which the event's `maxPerUser` is decided by one
conditional write, as capacity is on the event."""

from pymongo.errors import DuplicateKeyError

from ..db import get_db


def add(event_id, user_id, quantity, *, limit=None):
    """Count `quantity` more seats held by the user for the event, if that keeps them
    within `limit` (None: no limit, for money that arrived for a lapsed hold).

    The account's first hold for the event stores its count (one insert: the common case
    in a rush). When the count exists already (the insert meets its `_id`), one conditional
    update decides, so parallel requests of one account cannot pass the limit; two first
    holds racing each other leave one insert and one update against the winner's count.
    (Not an upsert: MongoDB refuses to insert from a filter on the `_id`'s paths,
    `held_by`.)

    :return: whether the seats were counted.
    """
    if limit is not None and quantity > limit:
        return False
    try:
        get_db().holdings.insert_one({"_id": {"event": event_id, "user": user_id}, "seats": quantity})
        return True
    except DuplicateKeyError:
        within = {"$gte": 0} if limit is None else {"$lte": limit - quantity}  # `$gte: 0`: any count
        return get_db().holdings.update_one(held_by(event_id, user_id, within), {"$inc": {"seats": quantity}}
                                            ).modified_count == 1


def subtract(event_id, user_id, quantity):
    """The user holds `quantity` seats fewer for the event (never below zero)."""
    get_db().holdings.update_one(held_by(event_id, user_id, {"$gte": quantity}), {"$inc": {"seats": -quantity}})


def held_by(event_id, user_id, seats):
    """The filter of one account's holding for one event whose `seats` match `seats`.

    The `_id` is a document, `{event, user}`, which the embedded server does not look up
    in the `_id` index (a scan: 10 ms at 2,000 holdings, measured); its fields are queried
    by path, exactly the fields of the `by_account` index (query shapes, `db.py`).
    """
    return {"_id.event": event_id, "_id.user": user_id, "seats": seats}


def every():
    """Every (event, user) seat count, for `reconcile`."""
    return list(get_db().holdings.find({}))


def correct(holding, seats):
    """Set a holding (as read by `every`) to `seats`, only if unchanged since it was read."""
    key = holding["_id"]
    return get_db().holdings.update_one(
        held_by(key["event"], key["user"], holding["seats"]), {"$set": {"seats": seats}}
    ).modified_count == 1
