"""Payments: a held ticket paid with Stripe, and Stripe's webhook."""

from ..extensions import Blueprint

bp = Blueprint("payments", __name__, url_prefix="/payment", description="Paying for held tickets")

from . import routes  # noqa: E402,F401  (registers the routes on bp)
