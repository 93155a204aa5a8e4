"""Events and their seats (`routes.py`), the cached pages (`listing.py`), and the attendee CSV."""
