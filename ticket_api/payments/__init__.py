"""Paying for held tickets, and Stripe's webhook (`routes.py`), replayed by `Idempotency-Key`."""
