"""Tickets: seats held and sold (`routes.py`); the tickets themselves (`store.py`)."""

from . import store  # noqa: F401  (tickets.store, for the layers below the routes)
