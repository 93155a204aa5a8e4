"""One module per collection, the only code that reads or writes it; `gateway.py`, the only code that calls Stripe."""
