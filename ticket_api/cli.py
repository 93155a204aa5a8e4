"""Operator commands: `flask --app wsgi <command>`, against the database the app is set to use."""

import click

from .auth import service as users
from .security import ADMIN


def register_commands(app):
    @app.cli.command("promote-admin")
    @click.argument("email")
    def promote_admin(email):
        """Grant the admin role to the user with EMAIL (venue staff)."""
        user = users.set_role(email, ADMIN)
        if user is None:
            raise click.ClickException(f"no user with email {email.lower()}: sign up first")
        click.echo(f"{user['email']} ({user['username']}) is now an admin")
