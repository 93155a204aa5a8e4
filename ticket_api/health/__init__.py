"""Operations: is the service up, and can it reach its database."""

from ..extensions import Blueprint

bp = Blueprint("health", __name__, description="Operations")

from . import routes  # noqa: E402,F401  (registers the routes on bp)
