"""Accounts and tokens (`routes.py`), and the lockout of repeated failed logins (`failed_logins.py`)."""
