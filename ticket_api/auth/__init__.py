"""Accounts: sign up, log in, log out, and the caller's own tickets (`routes.py`);
the users and revoked tokens (`store.py`)."""

from . import store  # noqa: F401  (auth.store, for the layers below the routes)
