"""One place that turns every failure into `{"message": ...}` with the right status."""

import logging

import marshmallow as ma
from flask_limiter import RateLimitExceeded
from pymongo.errors import ConnectionFailure

log = logging.getLogger(__name__)

INVALID_DATA = "Invalid data"
INTERNAL_ERROR = "Internal server error"
DATABASE_UNAVAILABLE = "Database unavailable"


class ErrorSchema(ma.Schema):
    """The body of every error reply (documentation only: errors are built below)."""

    message = ma.fields.String(required=True, metadata={"example": "Invalid data"})
    code = ma.fields.String(metadata={"description": "Stable, for programs (API.md, \"Error codes\")",
                                      "example": "sold_out"})
    errors = ma.fields.Dict(
        metadata={
            "description": "Validation errors, keyed by location (`json`, `query`) then field",
            "example": {"json": {"email": ["Not a valid email address."]}},
        }
    )


class ApiError(Exception):
    """A domain failure the client can act on: carries its status, message and, where the
    contract gives one, its stable `code` (API.md, "Error codes").

    Subclass it with them as class attributes, or raise it with them.
    """

    status_code = 400
    message = "Bad request"
    code = None

    def __init__(self, message=None, status_code=None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.status_code = status_code or self.status_code

    def body(self):
        return {"message": self.message, **({"code": self.code} if self.code else {})}

    def headers(self):
        return {}


class UnsupportedMediaType(ApiError):
    """A body sent without `Content-Type: application/json`: said as such, rather than
    as a list of the fields it seems to lack."""

    status_code, message, code = 415, "Send the body as JSON (Content-Type: application/json)", \
        "unsupported_media_type"


class KeptChanging(RuntimeError):
    """A conditional write, retried after each miss (the document changed since it was
    read), kept missing: a bug or a livelock, never an answer to give a client (a 500)."""


# How often a conditional write is retried after the document changed under it.
MAX_ATTEMPTS = 20


def http_error_response(error):
    """Shape a werkzeug/flask-smorest/flask-limiter HTTP error as this API's error body."""
    data = getattr(error, "data", None) or {}
    headers = data.get("headers") or {}
    if "messages" in data or "errors" in data:
        body = {"message": data.get("message", INVALID_DATA)}
        body["errors"] = data.get("errors", data.get("messages"))
    else:
        body = {"message": data.get("message") or describe(error)}
    return body, error.code, headers


def describe(error):
    if isinstance(error, RateLimitExceeded):
        return f"Too many requests ({error.description}); try again later"
    if error.description != type(error).description:
        return error.description  # set by abort(code, "..."), meant for the client
    return error.name


def register_error_handlers(app):
    """Handlers for what flask-smorest's Api does not see: domain, database, and bugs."""

    @app.errorhandler(ApiError)
    def handle_api_error(error):
        return error.body(), error.status_code, error.headers()

    @app.errorhandler(ConnectionFailure)
    def handle_database_down(error):
        log.error("database unreachable: %s", error)
        return {"message": DATABASE_UNAVAILABLE}, 503

    @app.errorhandler(Exception)
    def handle_unexpected(error):
        log.exception("unhandled error")
        return {"message": INTERNAL_ERROR}, 500
