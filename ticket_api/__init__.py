"""The application factory: read it as the table of contents of the service."""

import atexit

from flask import Flask

from . import db, docs, requestlog, routing
from .auth import routes as auth_routes
from .cli import register_commands
from .config import Config, check
from .door import routes as door_routes
from .errors import register_error_handlers
from .events import routes as event_routes
from .extensions import JSONProvider, api, cors, jwt, limiter
from .health import routes as health_routes
from .payments import routes as payment_routes
from .proxy import TrustedProxyFix
from .schemas import ObjectIdField
from .security import BEARER_SCHEME, init_jwt
from .stores import gateway
from .tickets import routes as ticket_routes

ROUTE_GROUPS = (auth_routes, event_routes, ticket_routes, payment_routes, door_routes, health_routes)


def create_app(test_config=None):
    """Build the app from the environment (and `.env`), `test_config` on top. :raise ConfigError:"""
    app = Flask(__name__, static_folder=None)
    app.json = JSONProvider(app)
    app.config.from_mapping(docs.SETTINGS)
    app.config.from_mapping(check({**Config().as_dict(), **(test_config or {})}))
    requestlog.configure_logging()
    requestlog.init_app(app)
    db.init_app(app)
    gateway.init_app(app)
    register_extensions(app)
    register_blueprints(app)
    docs.register_assets(app)
    register_error_handlers(app)
    register_commands(app)
    if app.config["TRUST_PROXY"]:
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, app.config["TRUST_PROXY"], app.config["FORWARDED_ALLOW_IPS"])
    db.ensure_indexes(db.get_db(app))
    atexit.register(close, app)
    return app


def close(app):
    """Close this app's database clients, its own and the rate limiter's: left to the garbage collector,
    the limiter's closes at interpreter shutdown, when pymongo cannot start its thread: the exit hangs."""
    db.close(app)
    if limiter.enabled:  # else it has no storage
        limiter.storage.storage.close()


def register_extensions(app):
    """Bind the singletons of `extensions.py` to this app, with this app's settings."""
    app.config.update(
        JWT_ERROR_MESSAGE_KEY="message",
        RATELIMIT_STORAGE_URI=app.config["MONGODB_URI"],
        RATELIMIT_STORAGE_OPTIONS={"database_name": app.config["MONGODB_DB"]},
        API_SPEC_OPTIONS=docs.spec_options(app.config["OPENAPI_SERVER_URL"]),
    )
    api.init_app(app)
    api.register_field(ObjectIdField, "string", None)
    api.ma_plugin.converter.add_attribute_function(docs.nullable_nested)
    routing.init_app(app, api)
    api.spec.components.security_scheme("bearerAuth", BEARER_SCHEME)
    jwt.init_app(app)
    init_jwt(jwt)
    limiter.init_app(app)
    cors.init_app(
        app,
        origins=app.config["CORS_ORIGINS"],
        expose_headers=["X-Total-Count", "Retry-After", "X-Request-ID", "ETag", "Idempotent-Replayed"],
    )


def register_blueprints(app):
    for routes in ROUTE_GROUPS:
        api.register_blueprint(routes.bp)
