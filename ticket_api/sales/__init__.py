"""Where seats and money meet: every workflow that touches more than one store or Stripe.

Modules, each importing only those listed before it (and stores, the Stripe gateway, `db`;
`make lint` checks it): `seats` (take, give back, release one lapsed hold), `settlement`
(lapsed holds released with their PaymentIntents cancelled, a succeeded payment applied
once, refunds), `reservations` (reserve), `checkout` (pay), `webhooks` (Stripe's events),
`reconcile` (the seat counters repaired). Workflows never see Flask's request: they take
plain values and `now` (the time the request began; after waiting on Stripe they read
the clock again), return what happened, and raise domain errors; the route picks the
status code.
"""
