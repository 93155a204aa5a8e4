"""Tickets: seats held and sold, given back, and their QR codes (`routes.py`, `qr.py`)."""
