"""Operations: is the process up (`/livez`), and can it reach its database (`/healthz`)."""
import marshmallow as ma
from pymongo.errors import PyMongoError

from .. import db, security
from ..extensions import Blueprint
from ..schemas import ReplySchema

bp = Blueprint("operations", __name__, description="Health, for operators and load balancers")


class HealthSchema(ReplySchema):
    status = ma.fields.String(metadata={"enum": ["ok", "unavailable"]})


class LivenessSchema(ReplySchema):
    status = ma.fields.String(metadata={"enum": ["alive"]})


@bp.route("/healthz")
@bp.response(200, HealthSchema)
@bp.alt_response(503, schema=HealthSchema, description="The database does not answer")
@bp.doc(operationId="getHealth", security=security.PUBLIC)
def healthz():
    """Ping the database: 200 when it answers, 503 when it does not.

    Readiness: a load balancer sends this process traffic while it answers 200."""
    try:
        db.ping(db.get_db())
    except PyMongoError:
        return {"status": "unavailable"}, 503
    return {"status": "ok"}


@bp.route("/livez")
@bp.response(200, LivenessSchema)
@bp.doc(operationId="getLiveness", security=security.PUBLIC)
def livez():
    """The process answers: 200, asking the database nothing.

    Liveness: restart the process when this fails. An outage of the database is no reason
    to, so this never reads it."""
    # Also the framework's own floor: `make bench` measures `GET /events` against it.
    return {"status": "alive"}
