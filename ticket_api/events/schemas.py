"""What creating, editing and listing events accept, and what an event shows."""

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import marshmallow as ma

from ..emails import LowercaseEmail
from ..schemas import DocumentSchema, PageQuerySchema, ReplySchema, Schema, StrictInteger, UtcDateTime, UtcInput
from ..stores.events import CANCELLED, DEFAULT_MAX_PER_USER, SCHEDULED, RefundDeadlineAfterDate, max_per_user, status_of

MAX_CAPACITY = 1_000_000
MAX_PER_USER = 100
# Ten seats of the dearest event stay within Stripe's largest charge (99,999,999 minor units).
MAX_PRICE = 9_999_999
IMAGE_MAX_LENGTH = 2048
# What a frontend puts in `<img src="...">` must not close the attribute or open a tag,
# and what a browser shows must be the URL it loads: no whitespace, quotes, angle brackets,
# backslashes (browsers read `\\` as `/`), control or invisible characters, or
# `user:password@`.
IMAGE_FORBIDDEN = re.compile(r"[\s\"'`<>\\\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def plain_url(url):
    if IMAGE_FORBIDDEN.search(url):
        raise ma.ValidationError("No whitespace, quotes, angle brackets, backslashes, control or invisible characters.")
    try:
        netloc = urlsplit(url).netloc
    except ValueError:  # say, an unclosed `[` of an IPv6 host: the URL validator says why
        return url
    if "@" in netloc:
        raise ma.ValidationError("No credentials (user:password@) in the URL.")
    return url


def in_the_future(when):
    if when <= datetime.now(UTC):
        raise ma.ValidationError("Must be in the future.")
    return when


class EventCreateSchema(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200),
                            metadata={"example": "Jazz night"})
    date = UtcInput(
        required=True,
        validate=in_the_future,
        metadata={"description": "ISO 8601, in the future; without an offset it is UTC",
                  "example": "2027-12-01T20:00:00Z"},
    )
    capacity = StrictInteger(required=True, validate=ma.validate.Range(min=1, max=MAX_CAPACITY),
                             metadata={"example": 300})
    price = StrictInteger(
        load_default=0,
        validate=ma.validate.Range(min=0, max=MAX_PRICE),
        metadata={"description": "In the currency's minor unit (cents); 0 is free", "example": 2500},
    )
    currency = ma.fields.String(
        validate=ma.validate.Regexp(r"^[A-Za-z]{3}$", error="Three letters, such as usd."),
        metadata={"description": "ISO 4217, default from the settings", "example": "usd"},
    )
    location = ma.fields.String(load_default="", validate=ma.validate.Length(max=200),
                                metadata={"example": "Main hall"})
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=5000),
                                   metadata={"multiline": True})
    image = ma.fields.URL(
        schemes={"http", "https"},
        validate=[ma.validate.Length(max=IMAGE_MAX_LENGTH), plain_url],
        metadata={
            "example": "https://example.com/poster.jpg",
            "maxLength": IMAGE_MAX_LENGTH,
            "description": "An http(s) URL: no credentials, whitespace, quotes, angle brackets, "
            "backslashes or control characters",
        },
    )
    maxPerUser = StrictInteger(
        load_default=DEFAULT_MAX_PER_USER,
        validate=ma.validate.Range(min=1, max=MAX_PER_USER),
        metadata={"description": "Seats one account may hold or own for the event, pending and confirmed together",
                  "example": DEFAULT_MAX_PER_USER},
    )
    refundDeadline = UtcInput(
        allow_none=True,
        metadata={"description": "Until when buyers may cancel their paid tickets for a full refund "
                  "(ISO 8601, not after `date`); null: only staff refund",
                  "example": "2027-11-24T20:00:00Z"},
    )

    @ma.validates_schema
    def refund_deadline_not_after_date(self, event, **kwargs):
        """Against the date sent; an edit that sends only one of them is checked against
        the other as stored (`events.edit`)."""
        if event.get("refundDeadline") is not None and "date" in event and event["refundDeadline"] > event["date"]:
            raise ma.ValidationError(RefundDeadlineAfterDate.REASON, "refundDeadline")

    @ma.post_load
    def normalize(self, event, **kwargs):
        if "currency" in event:
            event["currency"] = event["currency"].lower()
        return event


class EventEditSchema(EventCreateSchema):
    """Any fields of a new event, each validated as there; nothing defaults (a field not sent is kept)."""

    def __init__(self, **kwargs):
        super().__init__(partial=True, **kwargs)
        for field in self.fields.values():
            field.load_default = ma.missing


class EventQuerySchema(PageQuerySchema):
    upcoming = ma.fields.Boolean(load_default=False, metadata={"description": "Only events from now on"})


class EventSchema(DocumentSchema):
    name = ma.fields.String(metadata={"example": "Jazz night"})
    date = UtcDateTime(metadata={"example": "2026-12-01T20:00:00.000Z"})
    location = ma.fields.String(dump_default="", metadata={"example": "Main hall"})
    description = ma.fields.String(dump_default="", metadata={"example": "An evening of standards."})
    image = ma.fields.String(allow_none=True, dump_default=None, metadata={"example": "https://example.com/poster.jpg"})
    capacity = ma.fields.Integer(metadata={"example": 300})
    price = ma.fields.Integer(
        metadata={"description": "In the currency's minor unit (cents)", "example": 2500}
    )
    currency = ma.fields.String(metadata={"example": "usd"})
    status = ma.fields.Function(status_of, metadata={"type": "string", "enum": [SCHEDULED, CANCELLED]})
    refundDeadline = UtcDateTime(allow_none=True, dump_default=None,
                                 metadata={"example": "2026-11-24T20:00:00.000Z"})
    maxPerUser = ma.fields.Function(
        max_per_user,
        metadata={"type": "integer", "description": "Seats one account may hold or own for the event", "example": 10},
    )
    ticketsAvailable = ma.fields.Method(
        "tickets_available",
        dump_only=True,
        metadata={"type": "integer", "description": "capacity minus seats held or sold", "example": 55},
    )

    def tickets_available(self, event):
        return max(event["capacity"] - event["seatsTaken"], 0)


class EventCancelSchema(Schema):
    reason = ma.fields.String(load_default=None, validate=ma.validate.Length(max=1000),
                              metadata={"description": "Why, for the venue's records", "example": "The band is ill"})


class EventCancelledSchema(ReplySchema):
    event = ma.fields.Nested(EventSchema)
    refundsPending = ma.fields.Integer(metadata={
        "description": "Tickets not settled yet (Stripe down, or time up): call again, or run `flask reconcile`",
        "example": 0})


class TicketCountsSchema(ReplySchema):
    pending = ma.fields.Integer(metadata={"example": 3})
    confirmed = ma.fields.Integer(metadata={"example": 120})
    expired = ma.fields.Integer(metadata={"example": 14})
    cancelled = ma.fields.Integer(metadata={"example": 2})
    refunded = ma.fields.Integer(metadata={"example": 1})


class RevenueSchema(ReplySchema):
    currency = ma.fields.String(metadata={"example": "usd"})
    gross = ma.fields.Integer(metadata={"description": "Paid for confirmed and refunded tickets, minor units",
                                        "example": 302500})
    refunded = ma.fields.Integer(metadata={
        "description": "Refunded tickets' amounts, and what was refunded of confirmed ones in Stripe's dashboard",
        "example": 3500})
    net = ma.fields.Integer(metadata={"description": "gross - refunded", "example": 299000})


class EventSummarySchema(ReplySchema):
    """An event's seats (held, sold, left, admitted) and money, for staff."""

    capacity = ma.fields.Integer(metadata={"example": 300})
    held = ma.fields.Integer(metadata={"description": "Seats of pending tickets (unexpired holds)", "example": 5})
    sold = ma.fields.Integer(metadata={"description": "Seats of confirmed tickets", "example": 240})
    available = ma.fields.Integer(metadata={"description": "capacity - held - sold, never below 0", "example": 55})
    checkedIn = ma.fields.Integer(metadata={"description": "Seats of tickets scanned at the door", "example": 0})
    tickets = ma.fields.Nested(TicketCountsSchema, metadata={"description": "How many tickets have each status"})
    revenue = ma.fields.Nested(RevenueSchema, metadata={"description": "In the event's currency's minor unit"})


class BoxOfficeSaleSchema(Schema):
    """A sale at the door: to a registered user's `email`, or to a walk-in's `name` (and maybe `email`)."""

    quantity = StrictInteger(required=True, validate=ma.validate.Range(min=1, max=100), metadata={"example": 2})
    paidWith = ma.fields.String(required=True, validate=ma.validate.OneOf(["cash", "comp"]),
                                metadata={"description": "`cash` (the price) or `comp` (given, 0)"})
    email = LowercaseEmail(validate=ma.validate.Length(max=254), metadata={"example": "ada@example.com"})
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=200),
                            metadata={"example": "Grace Hopper", "description": "A walk-in's (no account)"})

    @ma.validates_schema
    def someone(self, data, **kwargs):
        if "name" not in data and "email" not in data:
            raise ma.ValidationError("Give a registered user's email, or a walk-in's name.", "name")
