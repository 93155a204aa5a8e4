from datetime import UTC, datetime
from pathlib import Path

from flask import Response, current_app, request
from flask_jwt_extended import get_jwt_identity

from .. import security
from ..db import utcnow
from ..extensions import Blueprint, limiter
from ..sales import checkin
from ..stores.events import EventNotFound
from ..stores.tickets import Status
from .schemas import AdmissionSchema, CheckinSchema, DoorCountsSchema, RefusalSchema

# The page's script and style are the blueprint's static files, at /door/assets/ (not
# in the OpenAPI document, like /docs/assets/); the page itself is `door_page` below.
bp = Blueprint("door", __name__, description="Checking tickets in at the door (door staff and admins)",
               static_folder="page/assets", static_url_path="/door/assets")

PAGE = (Path(__file__).parent / "page" / "door.html").read_bytes()
# The page loads its own script and style and calls this service, nothing else: no inline
# code, no other host, no form posted anywhere, never framed.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
PAGE_HEADERS = {
    "Content-Security-Policy": {"description": CONTENT_SECURITY_POLICY, "schema": {"type": "string"}},
    "Cache-Control": {"description": "`no-cache`: kept, but checked again (ETag) on every load",
                      "schema": {"type": "string"}},
}

SCANNED_AT = datetime(2026, 12, 1, 20, 14, tzinfo=UTC)  # in the example of `already_checked_in`


@bp.route("/checkin", methods=["POST"])
@security.door_required
@limiter.limit(lambda: current_app.config["RATELIMIT_CHECKIN"], key_func=lambda: f"checkin:{get_jwt_identity()}")
@bp.arguments(CheckinSchema)
@bp.response(200, AdmissionSchema)
@bp.raises(*security.DOOR_REFUSALS)
@bp.raises(checkin.UnknownCode, schema=RefusalSchema)
@bp.raises(checkin.AlreadyCheckedIn(SCANNED_AT), description="Scanned before: `checkedInAt` says when",
           schema=RefusalSchema)
@bp.raises(checkin.NotAdmissible(Status.REFUNDED),
           description="Pending, expired, cancelled, refunded, or refunding (its holder's refund is running): "
           "`status` says which", schema=RefusalSchema)
@bp.raises(checkin.WrongEvent, schema=RefusalSchema)
@bp.error(429, "Too many requests (120 per 1 minute); try again later", "Too many scans by this account")
@bp.doc(operationId="checkIn", security=security.BEARER_AUTH)
def check_in(fields):
    """Check a ticket in by its door code.

    Of scanners reading one code at once, exactly one admits it.
    """
    return checkin.check_in(fields["code"], event_id=fields["eventId"], scan_id=fields["scanId"],
                            by=security.current_user_id(), now=utcnow())


@bp.route("/events/<objectid:event_id>/checkins")
@security.door_required
@bp.response(200, DoorCountsSchema)
@bp.raises(*security.DOOR_REFUSALS)
@bp.raises(EventNotFound)
@bp.doc(operationId="getEventCheckins", security=security.BEARER_AUTH)
def event_checkins(event_id):
    """Count an event's seats expected and admitted, with its last 20 scans."""
    return checkin.at_the_door(event_id)


@bp.route("/door")
@bp.response(200, {"type": "string"}, content_type="text/html", headers=PAGE_HEADERS,
             description="The door page (HTML), its script and style at `/door/assets/`")
@bp.doc(operationId="getDoorPage", security=security.PUBLIC)
def door_page():
    """The door page for door staff's phones: log in, pick today's event, scan codes."""
    response = Response(PAGE, mimetype="text/html", headers={
        "Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff"})
    response.add_etag()
    return response.make_conditional(request)
