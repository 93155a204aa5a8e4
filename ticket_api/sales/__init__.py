"""Where seats and money meet: every workflow that touches more than one store or Stripe.

Modules, each importing only those listed before it (and stores, the Stripe gateway, `db`;
`make lint` checks it): `seats` (take, give back, release one lapsed hold), `settlement`
(lapsed holds released with their PaymentIntents cancelled, a succeeded payment applied
once, refunds), then the workflows, independent of each other: `reservations` (reserve),
`checkout` (pay), `cancellation` (a ticket given back, an event cancelled), `webhooks`
(Stripe's events); last `reconcile` (what dead requests left finished, the seat counters
repaired). Workflows never see Flask's request: they take
plain values and `now` (the time the request began; after waiting on Stripe they read
the clock again), return what happened, and raise domain errors; the route picks the
status code.
"""
