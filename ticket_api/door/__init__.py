"""The door: checking tickets in, the door's counts, and the door page (`routes.py`, `page/`)."""
