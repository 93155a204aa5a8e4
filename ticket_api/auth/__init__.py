"""Accounts: sign up, log in, refresh, log out, the caller's account, password and own
tickets (`routes.py`); the users and revoked tokens (`store.py`)."""

from . import store  # noqa: F401  (auth.store, for the layers below the routes)
