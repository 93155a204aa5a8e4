from flask import current_app
from flask_jwt_extended import get_jwt_identity

from .. import security
from ..db import utcnow
from ..events.schemas import EventIdSchema
from ..extensions import Blueprint, limiter
from ..sales.seats import EventNotFound
from . import checkin
from .schemas import AdmissionSchema, CheckinSchema, DoorCountsSchema, RefusalSchema

bp = Blueprint("door", __name__, description="Checking tickets in at the door (door staff and admins)")


@bp.route("/checkin", methods=["POST"])
@security.door_required
@limiter.limit(lambda: current_app.config["RATELIMIT_CHECKIN"], key_func=lambda: f"checkin:{get_jwt_identity()}")
@bp.arguments(CheckinSchema)
@bp.response(200, AdmissionSchema)
@bp.error(401, security.MISSING_TOKEN)
@bp.error(403, security.DOOR_STAFF_ONLY)
@bp.alt_response(404, schema=RefusalSchema, description="`unknown_code`", example=checkin.UnknownCode().body())
@bp.alt_response(409, schema=RefusalSchema, example=checkin.NotAdmissible("refunded").body(),
                 description="`already_checked_in` (with `checkedInAt`), `not_admissible` (with `status`: "
                             "pending, expired, cancelled or refunded), `wrong_event`")
@bp.error(429, "Too many requests (120 per 1 minute); try again later", "Too many scans by this account")
@bp.doc(security=security.BEARER_AUTH)
def check_in(fields):
    """Check a ticket in by its door code: of scanners reading it at once, exactly one admits it."""
    return checkin.check_in(fields["code"], event_id=fields["eventId"], scan_id=fields["scanId"],
                            by=security.current_user_id(), now=utcnow())


@bp.route("/events/<event_id>/checkins")
@security.door_required
@bp.arguments(EventIdSchema, location="path", as_kwargs=True)
@bp.response(200, DoorCountsSchema)
@bp.error(401, security.MISSING_TOKEN)
@bp.error(403, security.DOOR_STAFF_ONLY)
@bp.raises(EventNotFound)
@bp.doc(security=security.BEARER_AUTH)
def event_checkins(event_id):
    """The event's seats expected and admitted so far, and its last 20 scans."""
    return checkin.at_the_door(event_id)
