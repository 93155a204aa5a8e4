"""One place that turns every failure into `{"message": ..., "code": ...}` with the right status."""

import logging
import re

import marshmallow as ma
from flask_limiter import RateLimitExceeded
from pymongo.errors import ConnectionFailure
from werkzeug.http import HTTP_STATUS_CODES

log = logging.getLogger(__name__)

INVALID_DATA = "Invalid data"
INVALID_JSON_BODY = "Invalid JSON body."
INTERNAL_ERROR = "Internal server error"
DATABASE_UNAVAILABLE = "Database unavailable"

# The code of an error that names none of its own, by its status (api_description.md lists them):
# werkzeug's 404/405/413, flask-limiter's 429, flask-smorest's validation 400, a bare
# `ApiError(message, 403)`. A status not listed is named after its reason phrase
# ("Precondition Failed": `precondition_failed`).
CODES_BY_STATUS = {
    400: "invalid_data",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
}


def code_for_status(status):
    return CODES_BY_STATUS.get(status) or re.sub(r"\W+", "_", HTTP_STATUS_CODES.get(status, "error").lower())


class ErrorSchema(ma.Schema):
    """The body of every error reply (documentation only: errors are built below)."""

    message = ma.fields.String(required=True, metadata={"description": "For people: it may change",
                                                        "example": "Invalid data"})
    code = ma.fields.String(required=True, metadata={"description": "For programs: stable (the table on top)",
                                                     "example": "invalid_data"})
    errors = ma.fields.Dict(metadata={
        "description": "`invalid_data`: the reasons, by place (`json`, `query`, `path`) and field"})
    expected = ma.fields.Integer(metadata={"description": "`amount_mismatch`: the ticket's amount"})
    declineCode = ma.fields.String(metadata={"description": "`card_declined`: Stripe's decline code"})


class ApiError(Exception):
    """A domain failure the client can act on: its status, message and stable `code` (None: its
    status's), as class attributes or arguments."""

    status_code = 400
    message = "Bad request"
    code = None

    def __init__(self, message=None, status_code=None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.status_code = status_code or self.status_code

    def body(self):
        return {"message": self.message, "code": self.code or code_for_status(self.status_code)}

    def headers(self):
        return {}


class UnsupportedMediaType(ApiError):
    """A body sent without `Content-Type: application/json`, said so rather than as missing fields."""

    status_code, message, code = 415, "Send the body as JSON (Content-Type: application/json)", \
        "unsupported_media_type"


class InvalidJson(ApiError):
    """A body declared JSON that `extensions.loads` refuses: the validation reply, with its own code."""

    status_code, message, code = 400, INVALID_DATA, "invalid_json"

    def body(self):
        return {**super().body(), "errors": {"json": [INVALID_JSON_BODY]}}


class KeptChanging(RuntimeError):
    """A conditional write kept missing after `MAX_ATTEMPTS` tries: a bug or a livelock, a 500."""


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
    return {**body, "code": code_for_status(error.code)}, error.code, headers


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
        return {"message": DATABASE_UNAVAILABLE, "code": "database_unavailable"}, 503

    @app.errorhandler(Exception)
    def handle_unexpected(error):
        log.exception("unhandled error")
        return {"message": INTERNAL_ERROR, "code": code_for_status(500)}, 500
