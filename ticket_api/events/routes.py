from flask import Response, current_app, request
from flask_smorest.exceptions import PreconditionFailed
from werkzeug.datastructures import MIMEAccept

from .. import security
from ..db import utcnow
from ..errors import ApiError
from ..extensions import Blueprint
from ..sales import cancellation, reservations, seats, settlement
from ..schemas import TOTAL_COUNT_HEADER
from ..stores import events, tickets
from ..stores.users import UserGone
from ..tickets.schemas import EventTicketsQuerySchema, TicketWithHolderSchema
from . import listing, tickets_csv
from .schemas import (
    BoxOfficeSaleSchema,
    EventCancelledSchema,
    EventCancelSchema,
    EventCreateSchema,
    EventEditSchema,
    EventQuerySchema,
    EventSchema,
    EventSummarySchema,
)

bp = Blueprint("events", __name__, url_prefix="/events", description="Events and their seats")

CSV_HEADER = {"Content-Disposition": {
    "description": 'CSV only: `attachment; filename="event-<id>-tickets.csv"`', "schema": {"type": "string"}}}


class StaleEdit(ApiError):
    status_code, message, code = 412, "The event changed since it was read (If-Match): read it again", \
        "precondition_failed"


@bp.route("")
@bp.arguments(EventQuerySchema(), location="query")  # an instance: not built anew on every request
@bp.response(200, EventSchema(many=True), headers=TOTAL_COUNT_HEADER)
@bp.own_etag
@bp.doc(operationId="listEvents", security=security.PUBLIC)
def list_events(query):
    """List events by date.

    `upcoming=true` keeps those still to come; `page` and `limit` give a page, with the
    total in `X-Total-Count`. Sent with the `ETag` of a page as `If-None-Match`, the answer
    is 304 while the page is unchanged.
    """
    # From each worker's cache of pages already rendered as JSON: the schema documents the reply, never dumps it.
    body, total, etag = listing.page(now=utcnow(), **query)
    fresh = request.if_none_match.contains_weak(etag)
    response = Response(status=304) if fresh else Response(body, mimetype="application/json")
    response.set_etag(etag, weak=True)
    response.headers.update({"X-Total-Count": str(total), "Cache-Control": "no-cache"})
    return response


@bp.route("/<objectid:event_id>")
@bp.etag
@bp.response(200, EventSchema)
@bp.raises(events.EventNotFound)
@bp.doc(operationId="getEvent", security=security.PUBLIC)
def get_event(event_id):
    """Get one event, with the seats left.

    Its `ETag` is of what is shown: sent back as `If-None-Match`, the answer is 304 while
    nothing changed, so a page can poll the seats left cheaply.
    """
    event = listing.event(event_id, now=utcnow())
    if event is None:
        raise events.EventNotFound()
    return event


@bp.route("", methods=["POST"])
@security.admin_required
@bp.arguments(EventCreateSchema)
@bp.response(201, EventSchema)
@bp.raises(*security.ADMIN_REFUSALS)
@bp.doc(operationId="createEvent", security=security.BEARER_AUTH)
def create_event(fields):
    """Create an event (admins)."""
    return events.create(default_currency=current_app.config["DEFAULT_CURRENCY"], now=utcnow(), **fields)


@bp.route("/<objectid:event_id>", methods=["PATCH"])
@security.admin_required
@bp.etag
@bp.arguments(EventEditSchema)
@bp.response(200, EventSchema)
@bp.raises(events.RefundDeadlineAfterDate, description="The `refundDeadline` would be after the stored `date`")
@bp.raises(*security.ADMIN_REFUSALS)
@bp.raises(events.EventNotFound)
@bp.raises(events.EventCancelled)
@bp.raises(events.CapacityBelowSold(240), description="Fewer seats than are already held and sold")
@bp.raises(StaleEdit)
@bp.doc(operationId="editEvent", security=security.BEARER_AUTH)
def edit_event(changes, event_id):
    """Edit an event (admins).

    Any fields of a new event, validated as there. A new price or currency applies to
    holds made from now on. With `If-Match` (the `ETag` of `GET /events/{event_id}`) the
    edit applies only if the event is still as it was read.
    """
    now = utcnow()
    settlement.before_a_read(now=now, event_id=event_id)  # as GET does, so its ETag matches
    approve = still_as_read if request.if_match else None
    event = events.edit(event_id, changes, now=now, approve=approve)
    if event is None:
        raise events.EventNotFound()
    return event


@bp.route("/<objectid:event_id>/cancel", methods=["POST"])
@security.admin_required
@bp.arguments(EventCancelSchema)
@bp.response(200, EventCancelledSchema)
@bp.alt_response(202, schema=EventCancelledSchema, description="Cancelled; some refunds are still to be made")
@bp.raises(*security.ADMIN_REFUSALS)
@bp.raises(events.EventNotFound)
@bp.doc(operationId="cancelEvent", security=security.BEARER_AUTH)
def cancel_event(fields, event_id):
    """Cancel an event for good (admins).

    Holds are released and paid tickets refunded in full; free and box-office tickets end
    `cancelled`. What cannot be settled now (Stripe down, or more refunds than one request
    makes) is counted in `refundsPending` with a 202: call again, or run `flask reconcile`,
    to finish it; nothing is ever refunded twice.
    """
    event, pending = cancellation.cancel_event(event_id, reason=fields["reason"], now=utcnow())
    return {"event": event, "refundsPending": pending}, 202 if pending else 200


@bp.route("/<objectid:event_id>/tickets")
@security.admin_required
@bp.arguments(EventTicketsQuerySchema, location="query")
@bp.response(200, TicketWithHolderSchema(many=True), headers=TOTAL_COUNT_HEADER)
@bp.alt_response(200, schema={"type": "string"}, content_type="text/csv", success=True, headers=CSV_HEADER,
                 description="As `Accept` asks: a page of the tickets as JSON (the default; the total in "
                 "`X-Total-Count`), or with `Accept: text/csv` every matching ticket as a CSV file to download")
@bp.raises(*security.ADMIN_REFUSALS)
@bp.raises(events.EventNotFound)
@bp.doc(operationId="listEventTickets", security=security.BEARER_AUTH)
def list_event_tickets(query, event_id):
    """List an event's tickets with their holders (admins).

    Newest first; `status` keeps one status. Sent with `Accept: text/csv`, the answer is a CSV file of
    every matching ticket (no paging; no door codes): ticket id, status, quantity, amount,
    currency, holder username, name and email, created and checked-in times.
    """
    event = event_as_now(event_id)
    if wants_csv():
        return tickets_csv.response(event_id, tickets.list_for_event(event, status=query.get("status")))
    total = tickets.count_for_event(event_id, status=query.get("status"))
    return tickets.list_for_event(event, **query), 200, {"X-Total-Count": str(total)}


@bp.route("/<objectid:event_id>/summary")
@security.admin_required
@bp.response(200, EventSummarySchema)
@bp.raises(*security.ADMIN_REFUSALS)
@bp.raises(events.EventNotFound)
@bp.doc(operationId="getEventSummary", security=security.BEARER_AUTH)
def event_summary(event_id):
    """Count an event's seats, tickets and money (admins).

    Seats held, sold, left and admitted at the door; tickets by status; money in the
    event's currency's minor unit.
    """
    return tickets.summary(event_as_now(event_id))


def wants_csv():
    """Whether `Accept` prefers CSV to JSON, whatever parameters it gives them (werkzeug matches a
    type with parameters to the same parameters only)."""
    types = MIMEAccept([(value.partition(";")[0], quality) for value, quality in request.accept_mimetypes])
    return types.best_match(["application/json", "text/csv"]) == "text/csv"


def event_as_now(event_id):
    """The event, its lapsed holds released first (as every read of seats does); else a 404."""
    settlement.before_a_read(now=utcnow(), event_id=event_id)
    event = events.get(event_id)
    if event is None:
        raise events.EventNotFound()
    return event


def still_as_read(event):
    """The event's ETag, computed as `GET /events/<id>` computes it, is `If-Match`'s."""
    try:
        bp.check_etag(event, EventSchema)
    except PreconditionFailed:
        raise StaleEdit() from None


@bp.route("/<objectid:event_id>/tickets", methods=["POST"])
@security.admin_required
@bp.arguments(BoxOfficeSaleSchema)
@bp.response(201, TicketWithHolderSchema)
@bp.raises(*security.ADMIN_REFUSALS)
@bp.raises(events.EventNotFound)
@bp.raises(UserGone, description="No account has this `email` (give a `name` for a walk-in)")
@bp.raises(seats.SoldOut, events.EventCancelled)
@bp.doc(operationId="sellAtBoxOffice", security=security.BEARER_AUTH)
def sell_at_box_office(sale, event_id):
    """Sell seats for cash, or give them, at the box office (admins).

    Confirmed at once: to a registered user (`email` alone: the ticket is theirs, in their
    tickets) or a walk-in (`name`, maybe `email`). Counts against capacity like any sale,
    not against `maxPerUser`; sells while the show is on.
    """
    walk_in = {"name": sale["name"], "email": sale.get("email")} if "name" in sale else None
    return reservations.sell_at_box_office(event_id=event_id, quantity=sale["quantity"], paid_with=sale["paidWith"],
                                           email=sale.get("email"), walk_in=walk_in, now=utcnow())
