"""The stores: one module per collection, the only code that reads or writes it, and the
Stripe gateway (`gateway.py`), the only code that calls Stripe. Plain documents in and
out; stores never import each other."""
