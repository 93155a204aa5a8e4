"""Checking tickets in at the door: one conditional update of the ticket decides.

A scan reads the ticket by its door code and decides on what it read: unknown, for
another event, not confirmed, already in, or to be admitted. Admitting is one
`update_one` whose filter requires the ticket still confirmed and not checked in
(`tickets.check_in`), so of any number of scanners reading one code at once exactly
one admits it. Any other finds that its update matched nothing, reads the ticket again
and answers what it is now: already in (with the time), or given back meanwhile. A
ticket its holder is being refunded for admits no one while the refund runs.

A scan retried with its `scanId` (the scanner lost the reply) by the account that
admitted it gets that admission again, not a false alarm: it is the same scan.

Every scan is recorded under the event it was made for (or the ticket's) for the door's
recent scans, except a retried admission (the same scan again) and an unknown code
scanned for no event in particular (nothing to file it under).
"""

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
    """Pending, expired, cancelled, refunded, or `refunding` (its holder is being refunded
    right now): `status` says which."""

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
    """Admit the ticket with this door code, scanned for `event_id` (None: any event) by
    the account `by`, as its scan `scan_id` (None: the scanner gives none).

    :return: the admission: `result`, `ticket` (`_id`, `quantity`, `holder`, `event`), `checkedInAt`.
    :raise UnknownCode, WrongEvent, NotAdmissible, AlreadyCheckedIn: why the ticket does not admit.
    """
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
    """Why a scan of the ticket, as read, is refused; None to admit it (or when it is the
    scan that admitted it, retried)."""
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
    """Record the scan under the event it was made for, else the ticket's (an unknown code
    scanned for no event has neither, and is not recorded)."""
    ticket = ticket or NO_TICKET
    event = ticket["event"] if event_id is None else event_id
    if event is not None:
        checkins.record(event_id=event, ticket_id=ticket["_id"], quantity=ticket["quantity"], result=result, by=by,
                     scan_id=scan_id, now=now)


def at_the_door(event_id):
    """The event's seats expected (confirmed) and admitted, and its last scans.

    :raise EventNotFound:
    """
    if events.get(event_id) is None:
        raise events.EventNotFound()
    return {**tickets.seats_at_the_door(event_id), "recent": checkins.recent(event_id)}
