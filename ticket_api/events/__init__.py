"""Events: what is on, when, and how many seats are left."""
