"""The extension singletons, bound to an app by `init_app` in `create_app`.

`Api` and `Blueprint` are flask-smorest's, tuned to this API's dialect: validation
errors are 400 (not 422), every error body is `{"message": ..., "code": ..., "errors"?: ...}`,
and every documented error shows its body, code included, as its example.

Every JSON body is read by `loads` (through the parser and through Flask's
`request.get_json`, see `JSONProvider`): what it refuses is a 400 `invalid_json`
("Invalid JSON body.") before any code sees the value, so no field or store has to
guard against it.
"""

import http
import json
import math

import flask_smorest
from flask import request
from flask.json.provider import DefaultJSONProvider
from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_smorest.exceptions import NotModified
from flask_smorest.utils import prepare_response
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.http import HTTP_STATUS_CODES, quote_etag

from . import errors

MAX_DEPTH = 32  # arrays and objects inside each other; no request of this API needs more than 3
MAX_NUMBER_LENGTH = 1000  # characters of a number literal (Python's own limit is 4,300 digits)


def loads(data):
    """Parse a request body as strict JSON (RFC 8259), or raise `json.JSONDecodeError`.

    Refused: bytes that are not UTF-8; `NaN`, `Infinity` and numbers that overflow to
    them; number literals over `MAX_NUMBER_LENGTH` characters; arrays and objects nested
    more than `MAX_DEPTH` deep (or deep enough to exhaust Python's recursion); and lone
    UTF-16 surrogates (`"\\ud800"`), in keys or values, which no UTF-8 text (bcrypt,
    BSON, a log line) can hold.
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_int)
    except RecursionError:
        raise json.JSONDecodeError(f"Nested more than {MAX_DEPTH} deep", "<body>", 0) from None
    except json.JSONDecodeError:
        raise
    except ValueError as error:  # UnicodeDecodeError, a refused number
        raise json.JSONDecodeError(str(error), "<body>", 0) from None
    _check_values(value)
    return value


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def _finite_float(literal):
    if len(literal) > MAX_NUMBER_LENGTH:
        raise ValueError("Number too long")
    number = float(literal)
    if not math.isfinite(number):
        raise ValueError("Number out of range")
    return number


def _int(literal):
    if len(literal) > MAX_NUMBER_LENGTH:
        raise ValueError("Number too long")
    return int(literal)


def _check_values(value):
    """Walk the parsed value without recursion: its depth, and every string in it."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise json.JSONDecodeError(f"Nested more than {MAX_DEPTH} deep", "<body>", 0)
            if isinstance(item, dict):
                for key in item:
                    _check_text(key)
                item = item.values()
            pending.extend((child, depth + 1) for child in item)


def _check_text(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise json.JSONDecodeError("A lone UTF-16 surrogate", "<body>", 0) from None


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading request bodies with `loads` (for `request.get_json`)."""

    def loads(self, s, **kwargs):
        return loads(s)


class Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req):
        """The body as JSON, read by `loads`; a non-empty body that is not declared JSON
        is a 415 (not a list of missing fields); no body at all is missing fields."""
        body = req.get_data(cache=True)
        if not is_json_request(req):
            if body:
                raise errors.UnsupportedMediaType()
            return core.missing
        return loads(body)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise errors.InvalidJson() from error


OPTIONAL_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of the entry as read: the change is refused (412) if it changed since",
    "schema": {"type": "string"},
}


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's, with `If-Match` optional (API.md): flask-smorest answers a PATCH
    without it with 428; here it applies the change to whatever is stored. A route with
    `@bp.etag` calls `bp.check_etag` only when `If-Match` was sent. Its 304 carries the ETag."""

    ARGUMENTS_PARSER = Parser()

    def _check_precondition(self):
        """No 428: `If-Match` is optional."""

    def _verify_check_etag(self):
        if request.if_match:
            super()._verify_check_etag()

    def _check_not_modified(self, etag):
        """flask-smorest's 304, with the `ETag` its 200 would carry (RFC 9110, 15.4.5)."""
        try:
            super()._check_not_modified(etag)
        except NotModified as not_modified:
            not_modified.data = {"headers": {"ETag": quote_etag(etag)}}
            raise

    def _prepare_etag_doc(self, doc, doc_info, **kwargs):
        doc = super()._prepare_etag_doc(doc, doc_info, **kwargs)
        if "IF_MATCH" in doc.get("parameters", []):
            doc["parameters"] = [OPTIONAL_IF_MATCH if name == "IF_MATCH" else name for name in doc["parameters"]]
            doc["responses"].pop(428, None)
        return doc

    def error(self, status_code, message, description=None):
        """Document an error reply a client must handle that no `ApiError` of ours makes (a
        token refused, a rate limit), with its exact body, its code the status's, as the
        example. For an `ApiError`, see `raises`."""
        example = {"message": message, "code": errors.code_for_status(status_code)}
        return self.alt_response(status_code, schema=errors.ErrorSchema, description=description or message,
                                 example=example)

    def raises(self, error, description=None):
        """Document an `ApiError` (a class, or an instance for one that needs arguments) the
        route raises, with its exact body, code included, as the example."""
        error = error() if isinstance(error, type) else error
        return self.alt_response(error.status_code, schema=errors.ErrorSchema,
                                 description=description or error.message, example=error.body())


class Api(flask_smorest.Api):
    ERROR_SCHEMA = errors.ErrorSchema

    def handle_http_exception(self, error):
        return errors.http_error_response(error)

    def _register_responses(self):
        """flask-smorest's shared error responses (`BAD_REQUEST` for a route's validation
        errors, `DEFAULT_ERROR`, `PRECONDITION_FAILED`...), each with its body as example."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response.update(schema=self.ERROR_SCHEMA, example=error_example(status))
            prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA,
                    "example": error_example(500)}
        prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def error_example(status):
    """The body werkzeug's error of this status gets (`errors.http_error_response`)."""
    if status == 400:
        return {"message": errors.INVALID_DATA, "code": errors.code_for_status(400),
                "errors": {"json": {"email": ["Not a valid email address."]}}}
    if status == 500:
        return {"message": errors.INTERNAL_ERROR, "code": errors.code_for_status(500)}
    return {"message": HTTP_STATUS_CODES.get(status, status.phrase), "code": errors.code_for_status(status)}


api = Api()
jwt = JWTManager()
limiter = Limiter(get_remote_address, strategy="moving-window", headers_enabled=True)
cors = CORS()
