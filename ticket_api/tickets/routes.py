from flask import Response, current_app
from flask_jwt_extended import get_jwt_identity, jwt_required

from .. import security
from ..db import utcnow
from ..extensions import Blueprint, limiter
from ..sales import cancellation, checkin, checkout, reservations, settlement
from ..schemas import TOTAL_COUNT_HEADER, PageQuerySchema
from ..stores import gateway, tickets
from ..stores.tickets import Status
from . import qr
from .schemas import NotAdmissibleSchema, TicketCreateSchema, TicketSchema

bp = Blueprint("tickets", __name__, url_prefix="/tickets", description="Holding and buying seats")

NOT_THE_CALLERS = "No such ticket of the caller's"


@bp.route("", methods=["POST"])
@jwt_required()
@limiter.limit(lambda: current_app.config["RATELIMIT_RESERVE"], key_func=lambda: f"reserve:{get_jwt_identity()}")
@bp.arguments(TicketCreateSchema)
@bp.response(201, TicketSchema)
@bp.raises(*reservations.REFUSALS, *security.TOKEN_REFUSALS)
@bp.error(429, "Too many requests (30 per 1 minute); try again later", "Too many reservations by this account")
@bp.doc(operationId="createTicket", security=security.BEARER_AUTH)
def reserve(fields):
    """Hold seats.

    The ticket is `confirmed` at once for a free event, else `pending` until `expiresAt`:
    pay it with `POST /payment` before then.
    """
    return reservations.reserve(
        event_id=fields["eventId"],
        user_id=security.current_user_id(),
        quantity=fields["quantity"],
        hold_minutes=current_app.config["HOLD_MINUTES"],
        now=utcnow(),
    )


@bp.route("/<objectid:ticket_id>")
@jwt_required()
@bp.response(200, TicketSchema)
@bp.raises(*security.TOKEN_REFUSALS)
@bp.raises(checkout.TicketNotFound, description=NOT_THE_CALLERS)
@bp.doc(operationId="getTicket", security=security.BEARER_AUTH)
def get_ticket(ticket_id):
    """Get one of the caller's tickets (admins: any ticket).

    A payment in flight is first brought up to date from Stripe, so a frontend polling
    here after Stripe.js returns sees the truth without waiting for the webhook.
    """
    now = utcnow()
    settlement.before_a_read(now=now)
    return checkout.refresh(callers_ticket(ticket_id, security.current_user()), now=now)


@bp.route("/<objectid:ticket_id>/cancel", methods=["POST"])
@jwt_required()
@bp.response(200, TicketSchema)
@bp.raises(*security.TOKEN_REFUSALS)
@bp.raises(checkout.TicketNotFound, description=NOT_THE_CALLERS)
@bp.raises(cancellation.RefundNotAllowed, description="The holder, past the event's `refundDeadline`")
@bp.raises(cancellation.CheckedIn, description="The holder, of a ticket used at the door")
@bp.raises(cancellation.NotCancellable(Status.REFUNDED), description="Cancelled, refunded or expired already")
@bp.raises(settlement.PaymentInProgress, cancellation.RefundInProgress)
@bp.raises(gateway.ProviderUnavailable, description="Stripe could not refund: nothing changed, try again")
@bp.doc(operationId="cancelTicket", security=security.BEARER_AUTH)
def cancel_ticket(ticket_id):
    """Give a ticket back.

    A hold is released at once, a card-paid ticket refunded in full. The holder may get a
    refund only before the event's `refundDeadline` (staff: always), and give back no
    ticket once it was used at the door.
    """
    user = security.current_user()
    ticket = callers_ticket(ticket_id, user)
    return cancellation.cancel(ticket, by_staff=user["role"] == security.ADMIN, now=utcnow())


@bp.route("/<objectid:ticket_id>/qr.svg")
@jwt_required()
@bp.response(200, content_type="image/svg+xml", description="The door code as a QR code (SVG)")
@bp.raises(*security.TOKEN_REFUSALS)
@bp.raises(checkout.TicketNotFound, description=NOT_THE_CALLERS)
@bp.raises(checkin.NotAdmissible(Status.PENDING), description="Pending, expired, cancelled or refunded: "
           "`status` says which", schema=NotAdmissibleSchema)
@bp.doc(operationId="getTicketQrCode", security=security.BEARER_AUTH)
def ticket_qr(ticket_id):
    """Get a ticket's door code as a QR code, to show at the door.

    To its owner, door staff and admins.
    """
    ticket = callers_ticket(ticket_id, security.current_user(), staff=(security.ADMIN, security.DOOR))
    if ticket["status"] != Status.CONFIRMED or not ticket.get("code"):
        raise checkin.NotAdmissible(ticket["status"])
    return Response(qr.svg(ticket["code"]), mimetype="image/svg+xml", headers={"Cache-Control": "private, no-store"})


def callers_ticket(ticket_id, user, staff=(security.ADMIN,)):
    """The ticket, if it is the user's or the user's role is one of `staff`; else a 404 (not
    a 403: whose tickets exist is nobody else's business)."""
    ticket = tickets.get(ticket_id)
    if ticket is None or (ticket["user"] != user["_id"] and user["role"] not in staff):
        raise checkout.TicketNotFound()
    return ticket


@bp.route("")
@security.admin_required
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, TicketSchema(many=True), headers=TOTAL_COUNT_HEADER)
@bp.raises(*security.ADMIN_REFUSALS)
@bp.doc(operationId="listTickets", security=security.BEARER_AUTH)
def list_tickets(query):
    """List every ticket, newest first (admins)."""
    settlement.before_a_read(now=utcnow())
    page, total = tickets.list_page(**query)
    return page, 200, {"X-Total-Count": str(total)}
