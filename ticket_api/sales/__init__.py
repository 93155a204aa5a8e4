"""The workflows, where seats, money and the stores meet. They never see Flask's request:
plain values and `now` in, what happened out (or a domain error); the route picks the
status. `make lint` checks their order (pyproject.toml)."""
