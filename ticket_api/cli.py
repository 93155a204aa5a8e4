"""Operator commands: `flask --app wsgi <command>`, against the database the app is set to use."""

import click

from .db import utcnow
from .sales.reconcile import MAX_SETTLE_SECONDS, SETTLE_SECONDS, find_drifts, give_missing_codes, settle_with_stripe
from .stores import users
from .stores.users import ADMIN, ROLES


def give_role(email, role):
    """:raise click.ClickException: nobody has this email."""
    user = users.set_role(email, role, now=utcnow())
    if user is None:
        raise click.ClickException(f"no user with email {email.lower()}: sign up first")
    return user


def register_commands(app):
    @app.cli.command("promote-admin")
    @click.argument("email")
    def promote_admin(email):
        """Grant the admin role to the user with EMAIL (venue staff)."""
        user = give_role(email, ADMIN)
        click.echo(f"{user['email']} ({user['username']}) is now an admin")

    @app.cli.command("set-role")
    @click.argument("email")
    @click.argument("role", type=click.Choice(ROLES))
    def set_role(email, role):
        """Give the user with EMAIL a ROLE: admin (venue staff: everything), door (door staff:
        check tickets in, nothing else) or user (back to a buyer). It applies at once."""
        user = give_role(email, role)
        click.echo(f"{user['email']} ({user['username']}) now has the role {role}")

    @app.cli.command("reconcile")
    @click.option("--dry-run", is_flag=True, help="Report drift, repair nothing, ask Stripe nothing.")
    @click.option("--settle-seconds", default=SETTLE_SECONDS, show_default=True,
                  type=click.IntRange(0, MAX_SETTLE_SECONDS),
                  help="Wait for reservations caught mid-way before counting.")
    def reconcile(dry_run, settle_seconds):
        """Settle what dead requests left half-done with Stripe (charges, refunds); give door
        codes to tickets stored before them; recompute every event's seat counter from its
        tickets; report and repair drift."""
        if not dry_run:
            for finished in settle_with_stripe(now=utcnow()):
                click.echo(said(finished))
            if given := give_missing_codes():
                click.echo(f"{given} tickets stored before door codes existed were given one")
        drifts, checked = find_drifts(repair=not dry_run, now=utcnow(), settle_seconds=settle_seconds)
        for drift in drifts:
            outcome = "repaired" if drift.repaired else ("not repaired (dry run)" if dry_run
                                                          else "changed meanwhile: run again")
            click.echo(
                f"event {drift.event_id} ({drift.name}): counter said {drift.counted} seats taken, "
                f"tickets hold {drift.held}: {outcome}"
            )
        click.echo(f"{checked} events checked, {len(drifts)} drifted, "
                   f"{sum(d.repaired for d in drifts)} repaired")
        if any(not d.repaired for d in drifts) and not dry_run:
            raise SystemExit(1)


def said(finished):
    """A line for what `reconcile` found half-done and did (`reconcile.Finished`)."""
    if finished.kind == "cancelled_event":
        left = f" but {finished.detail} (run again)" if finished.detail else ""
        return f"event {finished.id}: cancelled, its tickets settled{left}"
    found = {"charge": f"ticket {finished.id}: a charge left in flight",
             "refund": f"payment {finished.id}: a refund left half-made"}[finished.kind]
    if finished.outcome == "stripe_unavailable":
        return f"{found}: Stripe could not be asked ({finished.detail}): left for the next run"
    return found + {
        "no_intent": ", no PaymentIntent made: the hold can be paid again",
        "paid": f", paid at Stripe: the ticket is {finished.detail}",
        "unpaid": f", {finished.detail} at Stripe: the hold can be paid again",
        "taken_over": ": taken over by another process meanwhile",
        "refunded": ": refunded" + (", ticket {} is {}".format(*finished.detail) if finished.detail else ""),
    }[finished.outcome]
