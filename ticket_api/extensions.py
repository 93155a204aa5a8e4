"""The extension singletons, bound to an app by `init_app` in `create_app`: flask-smorest's `Api` and
`Blueprint` in this API's dialect, and `loads`, the strict JSON every request body is read with."""

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

from . import docs, errors, routing

MAX_DEPTH = 32  # arrays and objects inside each other; no request of this API needs more than 3
MAX_NUMBER_LENGTH = 1000  # characters of a number literal (Python's own limit is 4,300 digits)


def loads(data):
    """Parse a request body as strict JSON, or raise `json.JSONDecodeError` (docs/design.md, "Strict JSON bodies")."""
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
        """The body as JSON, read by `loads`; a non-empty body not declared JSON is a 415."""
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
    """flask-smorest's, with `If-Match` optional (no 428: `bp.check_etag` only when it is sent), its
    304 carrying the ETag, and every error a route answers documented with its exact body (`docs.py`)."""

    ARGUMENTS_PARSER = Parser()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(docs.prepare_refusals_doc)

    def route(self, rule, **options):
        """flask-smorest's, documenting the 400 of a malformed id in the rule."""
        register = super().route(rule, **options)
        malformed = [docs.Refusal(400, errors.http_error_response(routing.MalformedId(name))[0],
                                  f"`{name}` is not an id") for name in routing.ID_VARIABLE.findall(rule)]
        return lambda view: register(docs.document(view, malformed))

    def arguments(self, schema, *, location="json", **kwargs):
        """flask-smorest's, documenting what the route answers when `schema` refuses."""
        parse = super().arguments(schema, location=location, **kwargs)
        return lambda view: docs.document(parse(view), docs.invalid_input(schema, location))

    def raises(self, *raised, description=None, schema=None):
        """Document `ApiError`s the route raises (classes, or instances), each body as its example;
        `description` (or an `(error, description)` pair) for the message, `schema` for a richer body."""
        return lambda view: docs.document(view, [
            docs.raised(*error) if isinstance(error, tuple) else docs.raised(error, description, schema)
            for error in raised])

    def error(self, status_code, message, description=None):
        """Document an error reply no `ApiError` of ours makes (a token refused, a rate limit)."""
        return self.raises(errors.ApiError(message, status_code), description=description)

    @staticmethod
    def own_etag(view):
        """Document a route that sets its own `ETag` and answers 304, as `@bp.etag` documents its routes."""
        view._apidoc = {**getattr(view, "_apidoc", {}), "etag": True}
        return view

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


# What any route may answer, besides what it documents itself: its `default` response.
ANY_ROUTE = [
    docs.Refusal(500, {"message": errors.INTERNAL_ERROR, "code": errors.code_for_status(500)}, "A bug (logged)"),
    docs.Refusal(503, {"message": errors.DATABASE_UNAVAILABLE, "code": "database_unavailable"},
                 "The database does not answer: try again later"),
]


class Api(flask_smorest.Api):
    ERROR_SCHEMA = errors.ErrorSchema

    def handle_http_exception(self, error):
        return errors.http_error_response(error)

    def _register_responses(self):
        """flask-smorest's shared responses, each error with its body as example, and `DEFAULT_ERROR`."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                example = {"message": HTTP_STATUS_CODES.get(status, status.phrase),
                           "code": errors.code_for_status(status)}
                response.update(schema=self.ERROR_SCHEMA, example=example)
            prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response("DEFAULT_ERROR", docs.error_response(ANY_ROUTE), lazy=True)

    def _register_pagination_header(self):
        """None: lists give their total in `X-Total-Count`; this header's schema would be an unused component."""


api = Api()
jwt = JWTManager()
limiter = Limiter(get_remote_address, strategy="moving-window", headers_enabled=True)
cors = CORS()
