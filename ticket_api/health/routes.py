import marshmallow as ma
from pymongo.errors import PyMongoError

from .. import db, security
from ..extensions import Blueprint
from ..schemas import ReplySchema

bp = Blueprint("operations", __name__, description="Health, for operators and load balancers")


class HealthSchema(ReplySchema):
    status = ma.fields.String(metadata={"enum": ["ok", "unavailable"]})


@bp.route("/healthz")
@bp.response(200, HealthSchema)
@bp.alt_response(503, schema=HealthSchema, description="The database does not answer")
@bp.doc(operationId="getHealth", security=security.PUBLIC)
def healthz():
    """Ping the database: 200 when it answers, 503 when it does not."""
    try:
        db.ping(db.get_db())
    except PyMongoError:
        return {"status": "unavailable"}, 503
    return {"status": "ok"}
