"""The door: tickets checked in by door staff and admins (`routes.py`, `checkin.py`); every
scan, for an event's recent ones (`store.py`)."""
