"""The door: tickets checked in by door staff and admins, the door's counts and the door
page (`routes.py`, `page/`)."""
