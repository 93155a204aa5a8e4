"""The one MongoClient of this process (made in `init_app`, never per request), the database handle
and the indexes; queries take shapes the embedded server indexes (docs/design.md, "Query shapes")."""

from datetime import UTC, datetime

from flask import current_app
from pymongo import ASCENDING, DESCENDING, IndexModel, MongoClient
from pymongo.collation import Collation

# Every query the routes make has its index here (README, "Data").
INDEXES = {
    "users": [
        IndexModel("email", unique=True, name="email_unique"),
        # Case-insensitive: "Alice" and "alice" are one username.
        IndexModel(
            "username",
            unique=True,
            name="username_unique",
            collation=Collation(locale="en", strength=2),
        ),
    ],
    "idempotency_keys": [
        IndexModel("createdAt", expireAfterSeconds=24 * 3600, name="kept_24h"),
    ],
    "payments": [
        IndexModel("ticket", name="by_ticket"),
        # Refunds left half-made, for `reconcile`.
        IndexModel([("refund", ASCENDING), ("refundClaimedAt", ASCENDING)], name="refunds_in_flight"),
    ],
    "card_declines": [
        IndexModel([("ticket", ASCENDING), ("at", ASCENDING)], name="ticket_declines"),
        IndexModel([("user", ASCENDING), ("at", ASCENDING)], name="user_declines"),
        IndexModel("at", expireAfterSeconds=24 * 3600, name="kept_24h"),
    ],
    "login_attempts": [
        IndexModel("expiresAt", expireAfterSeconds=0, name="expires_ttl"),
    ],
    "revoked_tokens": [
        IndexModel("expiresAt", expireAfterSeconds=0, name="expires_ttl"),
    ],
    "holdings": [
        # One account's seats for one event, by the fields of its `_id` (`holdings.held_by`).
        IndexModel([("_id.event", ASCENDING), ("_id.user", ASCENDING), ("seats", ASCENDING)], name="by_account"),
    ],
    "checkins": [
        # One event's scans, newest first (`GET /events/<id>/checkins`).
        IndexModel([("event", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)], name="event_recent"),
    ],
    "events": [
        IndexModel([("date", ASCENDING), ("_id", ASCENDING)], name="by_date"),
    ],
    "tickets": [
        IndexModel([("user", ASCENDING), ("createdAt", DESCENDING)], name="user_newest"),
        IndexModel([("createdAt", DESCENDING), ("_id", DESCENDING)], name="newest"),
        # Lapsed holds of one event, and of all: queried with exactly these fields (query shapes).
        IndexModel([("event", ASCENDING), ("status", ASCENDING), ("expiresAt", ASCENDING)], name="event_lapsed_holds"),
        IndexModel([("status", ASCENDING), ("expiresAt", ASCENDING)], name="lapsed_holds"),
        IndexModel("paymentIntent", name="by_payment_intent"),
        IndexModel("unsettledIntent", name="intents_to_cancel"),
        # Door codes: unique; tickets stored before codes existed have none until `reconcile`.
        IndexModel("code", unique=True, partialFilterExpression={"code": {"$type": "string"}}, name="code_unique"),
        # A ticket by its door code, at the door. Not `code_unique`: the embedded server answers no
        # query from a partial index. Descending only so that its key differs from that one's, which
        # MongoDB before 5.0 requires of two indexes on one field.
        IndexModel([("code", DESCENDING)], name="by_code"),
        # One event's tickets by status: a cancelled event's to settle, the staff's list and numbers.
        IndexModel([("event", ASCENDING), ("status", ASCENDING)], name="event_status"),
        # One event's tickets whatever their status: the staff's list and its summary. (MongoDB
        # could use the prefix of `event_status`; the embedded server needs the exact fields.)
        IndexModel("event", name="by_event"),
        # Charges a dead request left marked in flight, for `reconcile`.
        IndexModel([("status", ASCENDING), ("chargingSince", ASCENDING)], name="charges_in_flight"),
    ],
}


def init_app(app):
    """Open this app's client; it is closed with the app (see `close`)."""
    app.extensions["mongo"] = MongoClient(
        app.config["MONGODB_URI"],
        tz_aware=True,
        appname="ticket_api",
        serverSelectionTimeoutMS=app.config["MONGODB_TIMEOUT_MS"],
        **app.config.get("MONGODB_CLIENT_OPTIONS", {}),
    )


def get_client(app=None):
    return (app or current_app).extensions["mongo"]


def get_db(app=None):
    app = app or current_app
    return get_client(app)[app.config["MONGODB_DB"]]


def close(app):
    get_client(app).close()


def ensure_indexes(db):
    for collection, indexes in INDEXES.items():
        db[collection].create_indexes(indexes)


def utcnow():
    """Now, to the millisecond BSON stores, so what is returned equals what is stored."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def ping(db):
    db.command("ping")
