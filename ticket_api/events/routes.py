from flask import Response, current_app, request
from flask_smorest import abort

from .. import security
from ..db import utcnow
from ..extensions import Blueprint
from ..sales import settlement
from ..schemas import TOTAL_COUNT_HEADER
from . import listing, store
from .schemas import EventCreateSchema, EventIdSchema, EventQuerySchema, EventSchema

bp = Blueprint("events", __name__, url_prefix="/events", description="Events and their seats")

EVENT_NOT_FOUND = "Event not found"


@bp.route("")
@bp.arguments(EventQuerySchema, location="query")
@bp.response(200, EventSchema(many=True), headers=TOTAL_COUNT_HEADER)
def list_events(query):
    """List events by date (`?upcoming=true` for those still to come).

    Answered from each worker's cache of rendered pages (`listing.py`), already JSON, so
    the schema above documents the reply rather than dumping it; `If-None-Match` -> 304.
    """
    body, total, etag = listing.page(now=utcnow(), **query)
    fresh = request.if_none_match.contains_weak(etag)
    response = Response(status=304) if fresh else Response(body, mimetype="application/json")
    response.set_etag(etag, weak=True)
    response.headers.update({"X-Total-Count": str(total), "Cache-Control": "no-cache"})
    return response


@bp.route("/<event_id>")
@bp.arguments(EventIdSchema, location="path", as_kwargs=True)
@bp.response(200, EventSchema)
@bp.error(404, EVENT_NOT_FOUND)
def get_event(event_id):
    """Get one event, with the seats left."""
    settlement.release_lapsed_holds(now=utcnow(), event_id=event_id)
    return store.get(event_id) or abort(404, message=EVENT_NOT_FOUND)


@bp.route("", methods=["POST"])
@security.admin_required
@bp.arguments(EventCreateSchema)
@bp.response(201, EventSchema)
@bp.error(401, security.MISSING_TOKEN)
@bp.error(403, security.ADMINS_ONLY)
@bp.doc(security=security.BEARER_AUTH)
def create_event(fields):
    """Create an event (admins)."""
    return store.create(default_currency=current_app.config["DEFAULT_CURRENCY"], now=utcnow(), **fields)
