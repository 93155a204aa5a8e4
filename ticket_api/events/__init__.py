"""Events: what is on, when, and how many seats are left."""

from ..extensions import Blueprint

bp = Blueprint("events", __name__, url_prefix="/events", description="Events and their seats")

from . import routes  # noqa: E402,F401  (registers the routes on bp)
