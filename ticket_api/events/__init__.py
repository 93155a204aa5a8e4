"""Events: what is on, when, and how many seats are left (`routes.py`, `listing.py`);
the events themselves (`store.py`)."""

from . import store  # noqa: F401  (events.store, for the layers below the routes)
