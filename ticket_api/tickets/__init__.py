"""Tickets: seats held and sold."""
