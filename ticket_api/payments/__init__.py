"""Payments: a held ticket paid with Stripe, and Stripe's webhook (`routes.py`); the
Stripe gateway (`gateway.py`) and the payment records (`store.py`)."""

from . import gateway, store  # noqa: F401  (for the layers below the routes)
