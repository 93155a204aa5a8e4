"""Payments: a held ticket paid with Stripe, and Stripe's webhook (`routes.py`), replayed
safely by `Idempotency-Key` (`idempotency.py`)."""
