"""The `holdings` collection: each account's seats per event, for `maxPerUser` (docs/design.md, "Seats")."""

from pymongo.errors import DuplicateKeyError

from ..db import get_db


def add(event_id, user_id, quantity, *, limit=None):
    """Count `quantity` more seats held by the user for the event, if that keeps them within `limit`
    (None: no limit): an insert for the first hold, else one conditional update.
    :return: whether the seats were counted."""
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
    """One account's holding with `seats` matching, by the `_id`'s paths (docs/design.md, "Query shapes")."""
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
