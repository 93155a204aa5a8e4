"""An event's tickets as CSV for staff: no door codes, no formulas (docs/design.md, "The attendee CSV")."""

import csv
import io

from flask import Response

from ..schemas import utc_text

COLUMNS = ("Ticket ID", "Status", "Quantity", "Amount (minor units)", "Currency", "Holder username",
           "Holder name", "Holder email", "Created at", "Checked in at")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def response(event_id, tickets):
    """A `text/csv` download of the tickets: a header row, then one row per ticket."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(COLUMNS)
    writer.writerows([cell(value) for value in row(ticket)] for ticket in tickets)
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="event-{event_id}-tickets.csv"'})


def row(ticket):
    holder = ticket.get("holder") or {}
    return (ticket["_id"], ticket["status"], ticket["quantity"], ticket["amount"], ticket["currency"],
            holder.get("username"), holder.get("name"), holder.get("email"),
            utc_text(ticket["createdAt"]), utc_text(ticket.get("checkedInAt")))


def cell(value):
    """The value as text ("" for None), defused if a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
