"""Development and tests only: the launcher behind `make run`, the embedded database and
the Stripe stand-in. Production code never imports this package (`make lint` checks it),
and a production install (`requirements.txt` alone) lacks what it imports."""
