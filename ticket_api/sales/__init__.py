"""The workflows, where seats, money and the stores meet: plain values and `now` in, what happened
(or a domain error) out; never Flask's request. `make lint` checks their order (pyproject.toml)."""
