"""Events: what is on, when, and how many seats are left (`routes.py`; the cached pages in
`listing.py`), and the staff's attendee CSV (`tickets_csv.py`)."""
