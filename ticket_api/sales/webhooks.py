"""Stripe's webhook events, applied once per event id from the PaymentIntent as Stripe has it now."""

from ..stores import gateway, payments, stripe_events, tickets
from ..stores.tickets import Status
from . import refunds, settlement


def handle_event(event, *, now):
    """Apply a verified Stripe event (`payment_intent.succeeded`, `.payment_failed`,
    `charge.refunded`); an event id already handled is ignored."""
    if stripe_events.event_handled(event.id):
        return
    data = event.data.object
    if event.type == "payment_intent.succeeded":
        settlement.settle_where_nobody_waits(gateway.retrieve_intent(data.id))
    elif event.type == "payment_intent.payment_failed":
        ticket_id = settlement.ticket_id_of(data)
        ticket = tickets.get(ticket_id) if ticket_id else None
        if ticket is not None and ticket["status"] == Status.PENDING:
            tickets.end_charge(ticket["_id"], error=settlement.error_message(data), now=now)
    elif event.type == "charge.refunded" and isinstance(getattr(data, "payment_intent", None), str):
        refunded_outside(data.payment_intent, now=now)
    stripe_events.mark_event_handled(event.id, event.type, now=now)


def refunded_outside(intent_id, *, now):
    """A refund made in Stripe's dashboard, as Stripe says now: partial, recorded; full, the ticket refunded."""
    ticket = tickets.get_by_intent(intent_id)
    if ticket is None:
        return
    refunded = gateway.amount_refunded(intent_id)
    if refunded <= 0:
        return
    tickets.record_refunded_amount(ticket["_id"], min(refunded, ticket["amount"]), now=now)
    if refunded >= ticket["amount"]:
        refunds.mark_refunded(ticket["_id"], own=True, now=now)
        payments.mark_refunded_outside(intent_id, now=now)
