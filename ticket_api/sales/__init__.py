"""Where seats and money meet: every workflow that touches more than one store or Stripe.

Modules, each importing only those listed before it (and stores, the Stripe gateway, `db`):
`seats` (take and give back, release lapsed holds), `settlement` (a succeeded payment
applied once, refunds, cancelled PaymentIntents), `holds` (reserve, and release lapsed
holds with their PaymentIntents), `checkout` (pay), `webhooks` (Stripe's events),
`reconcile` (the seat counters repaired). Workflows never see Flask's request: they
take plain values (and `now`), return what happened, and raise domain errors; the
route picks the status code.
"""
