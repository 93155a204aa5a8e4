"""Paying for a held ticket: a seat and its money always move together.

The `payments` collection records each PaymentIntent that took money (by its id, so a
payment is recorded once however often Stripe reports it) and whether it was refunded.
"""

import logging
from contextlib import suppress

from bson import ObjectId
from pymongo.errors import DuplicateKeyError, PyMongoError

from ..db import get_db, utcnow
from ..errors import ApiError
from ..tickets import service as tickets
from . import gateway

log = logging.getLogger(__name__)

PAYMENT_SUCCESSFUL = "Payment successful"
CONFIRM_IN_BROWSER = "Confirm the payment in the browser"
AUTHENTICATION_REQUIRED = "Authentication required"


class TicketNotFound(ApiError):
    status_code, message = 404, "Ticket not found"


class AmountMismatch(ApiError):
    status_code, message = 400, "Amount does not match"


class AlreadyPaid(ApiError):
    status_code, message = 409, "Ticket already paid"


class FreeTicket(ApiError):
    status_code, message = 409, "Free tickets need no payment"


class HoldExpired(ApiError):
    status_code, message = 409, "Hold expired"


class PaymentInProgress(ApiError):
    status_code, message = 409, "A payment for this ticket is already in progress"


class RefundedSeatsGone(ApiError):
    status_code = 409
    message = "The hold expired and its seats were sold meanwhile: the payment was refunded"


def pay(*, ticket_id, user_id, amount, token, now):
    """Charge the user's held ticket (with `token`), or prepare its payment for the browser.

    :return: (body, status code): 200 paid, or 202 with the client secret.
    :raise ApiError: 404, 400 amount, 409 paid/free/expired/in progress, 402, 502.
    """
    claimed = tickets.claim_for_charge(ticket_id, user_id, amount, now)
    if claimed is None:
        raise why_not_payable(tickets.find(ticket_id), user_id, amount, now)
    try:
        intent = existing_or_new_intent(claimed)
        if token and intent.status != "succeeded":  # succeeded: paid in the browser, not yet settled
            attempt_key = f"ticket-{ticket_id}-attempt-{claimed['paymentAttempt']}"
            intent = gateway.confirm_intent(intent.id, gateway.payment_method_for(token), attempt_key)
    except gateway.CardDeclined as declined:
        tickets.end_charge(ticket_id, error=declined.message)
        raise
    except Exception:  # the attempt is over: a success it hid is settled by the poll, webhook or release
        with suppress(PyMongoError):  # the database may be why we are here
            tickets.end_charge(ticket_id)
        raise
    if intent.status == "succeeded":
        paid = settle(intent, utcnow())
        return {"message": PAYMENT_SUCCESSFUL, "paymentId": intent.id, "ticket": paid}, 200
    tickets.end_charge(ticket_id)
    message = AUTHENTICATION_REQUIRED if intent.status == "requires_action" else CONFIRM_IN_BROWSER
    return {"message": message, "paymentId": intent.id, "clientSecret": intent.client_secret}, 202


def why_not_payable(ticket, user_id, amount, now):
    if ticket is None or ticket["user"] != user_id:
        return TicketNotFound()
    if amount != ticket["amount"]:
        return AmountMismatch()
    if ticket["status"] == "confirmed":
        return FreeTicket() if ticket["amount"] == 0 else AlreadyPaid()
    if ticket["status"] == "pending" and ticket["expiresAt"] > now:
        return PaymentInProgress()
    return HoldExpired()


def existing_or_new_intent(ticket):
    """The ticket's one PaymentIntent: created (and recorded on the ticket) on first use."""
    if ticket.get("paymentIntent"):
        return gateway.retrieve_intent(ticket["paymentIntent"])
    intent = gateway.create_intent(
        amount=ticket["amount"],
        currency=ticket["currency"],
        metadata={"ticketId": str(ticket["_id"]), "userId": str(ticket["user"])},
        idempotency_key=f"ticket-{ticket['_id']}-intent",
    )
    tickets.set_intent(ticket["_id"], intent.id)
    return intent


def settle(intent, now):
    """Apply a succeeded PaymentIntent to its ticket, once, whatever reports it.

    Confirms the pending ticket; for a lapsed hold, takes its seats again if they are
    still free; otherwise refunds at once. Nobody keeps money without a seat.

    :return: the confirmed ticket (with its event).
    :raise RefundedSeatsGone: the money went back.
    """
    ticket = tickets.find(ticket_id_of(intent))
    if ticket is None or intent.amount != ticket["amount"] or intent.currency != ticket["currency"]:
        refund(intent, ticket)
        raise RefundedSeatsGone()
    confirmed = tickets.confirm_paid(ticket["_id"], intent.id, now)
    if not confirmed:
        ticket = tickets.find(ticket["_id"])
        if ticket["status"] == "confirmed" and ticket.get("paymentIntent") == intent.id:
            confirmed = True  # settled already, by whoever reported it first
        elif ticket["status"] == "expired" and ticket.get("paymentIntent") in (None, intent.id):
            confirmed = tickets.retake_seats(ticket, intent.id, now)
    if not confirmed:
        refund(intent, ticket)
        raise RefundedSeatsGone()
    record(intent, ticket, "succeeded")
    return tickets.get(ticket["_id"])


def settle_where_nobody_waits(intent):
    """`settle` a succeeded PaymentIntent of one of our tickets, for the poll, the webhook
    and a released hold: there a refund is an outcome (the ticket says `refunded`), not an
    error, and a PaymentIntent that names no ticket of ours is not ours to refund."""
    if intent.status == "succeeded" and ticket_id_of(intent):
        with suppress(RefundedSeatsGone):
            settle(intent, utcnow())


def ticket_id_of(stripe_object):
    """The ticket a PaymentIntent is for (its metadata), or None."""
    metadata = getattr(stripe_object, "metadata", None)
    ticket_id = metadata.to_dict().get("ticketId") if metadata else None
    return ObjectId(ticket_id) if ticket_id and ObjectId.is_valid(ticket_id) else None


def error_message(stripe_object):
    error = getattr(stripe_object, "last_payment_error", None)
    return error.to_dict().get("message") if error else None


def record(intent, ticket, status):
    now = utcnow()
    get_db().payments.update_one(
        {"_id": intent.id},
        {"$set": {"status": status, "updatedAt": now},
         "$setOnInsert": {"ticket": ticket["_id"], "user": ticket["user"], "amount": intent.amount,
                          "currency": intent.currency, "createdAt": now}},
        upsert=True,
    )


def refund(intent, ticket):
    """Give a payment back, once: the first caller claims the refund, the others skip it."""
    try:
        get_db().payments.update_one(
            {"_id": intent.id, "refund": None}, {"$set": {"refund": "started"}}, upsert=True
        )
    except DuplicateKeyError:
        return  # someone else is refunding it, or has
    try:
        gateway.refund_intent(intent.id)
    except ApiError:
        get_db().payments.update_one({"_id": intent.id}, {"$unset": {"refund": ""}})
        raise
    get_db().payments.update_one(
        {"_id": intent.id},
        {"$set": {"refund": "done", "status": "refunded", "amount": intent.amount, "currency": intent.currency,
                  "ticket": ticket and ticket["_id"], "updatedAt": utcnow()}},
    )
    if ticket is not None:
        tickets.mark_refunded(ticket["_id"], utcnow())
    log.warning("refunded %s: its ticket could not be confirmed", intent.id)


def refresh(ticket):
    """Ask Stripe about a pending ticket's payment and apply what it says (for polling).

    Also while a charge is marked in flight: settling is idempotent, and it recovers a
    charge whose confirmation could not be written (a database fault after Stripe said yes).
    """
    if ticket["status"] != "pending" or not ticket.get("paymentIntent"):
        return
    intent = gateway.retrieve_intent(ticket["paymentIntent"])
    if intent.status == "succeeded":
        settle_where_nobody_waits(intent)
    elif error_message(intent):
        tickets.end_charge(ticket["_id"], error=error_message(intent))


def refresh_quietly(ticket):
    """`refresh`, but Stripe being down is logged, not an error: the ticket is shown as stored."""
    try:
        refresh(ticket)
    except ApiError as error:
        log.warning("could not refresh %s: %s", ticket.get("paymentIntent"), error.message)


def cancel_unfinished(ticket):
    """A released hold's PaymentIntent is cancelled so a late confirmation cannot charge;
    if it already succeeded, the payment is settled (seats re-taken, or refunded)."""
    try:
        settle_where_nobody_waits(gateway.cancel_intent(ticket["paymentIntent"]))
    except ApiError as error:  # Stripe down: the webhook settles it when it comes
        log.warning("could not cancel %s: %s", ticket["paymentIntent"], error.message)


def handle_event(event):
    """Apply a verified Stripe event, once per event id (re-reading the PaymentIntent
    rather than trusting the event's copy, so order of arrival does not matter)."""
    if get_db().stripe_events.find_one({"_id": event.id}):
        return
    data = event.data.object
    if event.type == "payment_intent.succeeded":
        settle_where_nobody_waits(gateway.retrieve_intent(data.id))
    elif event.type == "payment_intent.payment_failed":
        ticket_id = ticket_id_of(data)
        ticket = tickets.find(ticket_id) if ticket_id else None
        if ticket is not None and ticket["status"] == "pending":
            tickets.end_charge(ticket["_id"], error=error_message(data))
    elif event.type == "charge.refunded" and getattr(data, "payment_intent", None):
        refunded_outside(data.payment_intent)
    with suppress(DuplicateKeyError):  # delivered twice at once: handled twice, harmlessly
        get_db().stripe_events.insert_one({"_id": event.id, "type": event.type, "handledAt": utcnow()})


def refunded_outside(intent_id):
    """A refund made in Stripe's dashboard: the ticket is refunded and its seats go back."""
    ticket = tickets.find_by_intent(intent_id)
    if ticket is not None:
        tickets.mark_refunded(ticket["_id"], utcnow(), statuses=("confirmed", "pending", "expired"))
        get_db().payments.update_one({"_id": intent_id}, {"$set": {"status": "refunded"}})
