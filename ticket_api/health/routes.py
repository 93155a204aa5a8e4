import marshmallow as ma
from pymongo.errors import PyMongoError

from .. import db
from ..extensions import Blueprint
from ..schemas import Schema

bp = Blueprint("health", __name__, description="Operations")


class HealthSchema(Schema):
    status = ma.fields.String(metadata={"enum": ["ok", "unavailable"]})


@bp.route("/healthz")
@bp.response(200, HealthSchema)
@bp.alt_response(503, schema=HealthSchema, description="The database does not answer")
def healthz():
    """Ping the database: 200 when it answers, 503 when it does not."""
    try:
        db.ping(db.get_db())
    except PyMongoError:
        return {"status": "unavailable"}, 503
    return {"status": "ok"}
