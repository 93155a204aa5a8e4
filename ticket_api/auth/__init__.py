"""Accounts: sign up, log in, log out, and the caller's own tickets."""

from ..extensions import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth", description="Accounts and tokens")

from . import routes  # noqa: E402,F401  (registers the routes on bp)
