"""Tickets: seats held and sold."""

from ..extensions import Blueprint

bp = Blueprint("tickets", __name__, url_prefix="/tickets", description="Holding and buying seats")

from . import routes  # noqa: E402,F401  (registers the routes on bp)
