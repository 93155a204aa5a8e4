"""Checking tickets in at the door: one conditional update decides (docs/design.md, "Door check-in")."""

from ..errors import MAX_ATTEMPTS, ApiError, KeptChanging
from ..schemas import utc_text
from ..stores import checkins, events, tickets, users
from ..stores.tickets import Status

ADMITTED = "admitted"
NO_TICKET = {"_id": None, "event": None, "quantity": None}  # what the scan of an unknown code records


class UnknownCode(ApiError):
    status_code, message, code = 404, "No ticket has this code", "unknown_code"


class WrongEvent(ApiError):
    status_code, message, code = 409, "This ticket is for another event", "wrong_event"


class NotAdmissible(ApiError):
    """Not confirmed, or `refunding` (its holder's refund is running): `status` says which."""

    status_code, code = 409, "not_admissible"
    REFUNDING = "refunding"

    def __init__(self, status):
        said = "being refunded" if status == self.REFUNDING else status
        super().__init__(f"This ticket does not admit anyone: it is {said}")
        self.status = status

    def body(self):
        return {**super().body(), "status": self.status}


class AlreadyCheckedIn(ApiError):
    status_code, message, code = 409, "This ticket was already checked in", "already_checked_in"

    def __init__(self, checked_in_at):
        super().__init__()
        self.checked_in_at = checked_in_at

    def body(self):
        return {**super().body(), "checkedInAt": utc_text(self.checked_in_at)}


def check_in(code, *, event_id, scan_id, by, now):
    """Admit the ticket with this door code, scanned for `event_id` (None: any) by account `by` as `scan_id`.

    :return: the admission: `result`, `ticket` (`_id`, `quantity`, `holder`, `event`), `checkedInAt`.
    :raise UnknownCode, WrongEvent, NotAdmissible, AlreadyCheckedIn: why the ticket does not admit."""
    code = code.strip().upper()  # typed by hand, in any case: the codes' alphabet has no lower case
    for _ in range(MAX_ATTEMPTS):
        ticket = tickets.get_by_code(code)
        refusal = why_not_admitted(ticket, event_id, scan_id=scan_id, by=by, now=now)
        if refusal is not None:
            record(ticket, event_id, refusal.code, by=by, scan_id=scan_id, now=now)
            raise refusal
        if ticket.get("checkedInAt") is not None:
            return admission(ticket)  # this very scan, retried
        if tickets.check_in(ticket["_id"], by=by, scan_id=scan_id, now=now):
            record(ticket, event_id, ADMITTED, by=by, scan_id=scan_id, now=now)
            return admission({**ticket, "checkedInAt": now})
        # Scanned by another, or given back, since it was read: decide again on what it is now.
    raise KeptChanging(f"ticket {ticket['_id']}: neither checked in nor refused after {MAX_ATTEMPTS} attempts")


def why_not_admitted(ticket, event_id, *, scan_id, by, now):
    """Why a scan of the ticket as read is refused; None to admit it (or it is the admitting scan, retried)."""
    if ticket is None:
        return UnknownCode()
    if event_id is not None and ticket["event"] != event_id:
        return WrongEvent()  # whatever its state: it does not belong at this door
    if ticket["status"] != Status.CONFIRMED:
        return NotAdmissible(ticket["status"])
    if ticket.get("checkedInAt") is not None and not admitted_by(ticket, scan_id, by):
        return AlreadyCheckedIn(ticket["checkedInAt"])
    if ticket.get("checkedInAt") is None and tickets.being_given_back(ticket, now=now):
        return NotAdmissible(NotAdmissible.REFUNDING)
    return None


def admitted_by(ticket, scan_id, by):
    """Whether the ticket was checked in by this scan: its `scanId`, from the same account."""
    return scan_id is not None and ticket.get("scanId") == scan_id and ticket.get("checkedInBy") == by


def admission(ticket):
    return {
        "result": ADMITTED,
        "ticket": {"_id": ticket["_id"], "quantity": ticket["quantity"], "holder": holder(ticket),
                   "event": events.get(ticket["event"])},
        "checkedInAt": ticket["checkedInAt"],
    }


def holder(ticket):
    """Whom the ticket is for: its user's account, or the walk-in named at the box office."""
    if ticket.get("user") is None:
        return ticket.get("holder")
    user = users.get(ticket["user"])
    return None if user is None else {"_id": user["_id"], "username": user["username"], "email": user["email"]}


def record(ticket, event_id, result, *, by, scan_id, now):
    """Record the scan under the event it was made for, else the ticket's (neither: not recorded)."""
    ticket = ticket or NO_TICKET
    event = ticket["event"] if event_id is None else event_id
    if event is not None:
        checkins.record(event_id=event, ticket_id=ticket["_id"], quantity=ticket["quantity"], result=result,
                        by=by, scan_id=scan_id, now=now)


def at_the_door(event_id):
    """The event's seats expected (confirmed) and admitted, and its last scans. :raise EventNotFound:"""
    if events.get(event_id) is None:
        raise events.EventNotFound()
    return {**tickets.seats_at_the_door(event_id), "recent": checkins.recent(event_id)}
