"""Accounts: sign up, log in, refresh, log out, the caller's account, password and own
tickets (`routes.py`), and the lockout of repeated failed logins (`failed_logins.py`)."""
