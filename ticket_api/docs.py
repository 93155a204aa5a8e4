"""The OpenAPI document's own words and error replies (`Refusal`), and `GET /docs`: Swagger UI
served from the pinned swagger-ui-bundle, never a CDN (docs/design.md, "The OpenAPI document")."""

from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path

from flask import send_from_directory
from flask_smorest.utils import resolve_schema_instance
from swagger_ui_bundle import swagger_ui_path

from . import errors

ASSETS_URL = "/docs/assets/"
DESCRIPTION = (Path(__file__).parent / "api_description.md").read_text()

SETTINGS = {
    "API_TITLE": "ticket_api",
    "API_VERSION": "1.0",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": ASSETS_URL,
    # "Authorize" once with a token from /auth/login; "Try it out" then sends it.
    "OPENAPI_SWAGGER_UI_CONFIG": {"persistAuthorization": True, "tryItOutEnabled": True},
}


def spec_options(server_url):
    """What the document says besides its paths: where the API is, and how to use it."""
    return {"servers": [{"url": server_url}], "info": {"description": DESCRIPTION}}


NULL_OBJECT = {"type": "object", "nullable": True}  # apispec's "or null" beside a nested schema


def nullable_nested(converter, field, ret, **kwargs):
    """An apispec attribute function: a nullable nested schema as `nullable` + `allOf` (typed `Holder | null`)."""
    if NULL_OBJECT not in ret.get("anyOf", []):
        return {}
    ret["allOf"] = [schema for schema in ret.pop("anyOf") if schema != NULL_OBJECT]
    return NULL_OBJECT


def register_assets(app):
    @app.route(f"{ASSETS_URL}<path:filename>", endpoint="docs_assets")
    def docs_assets(filename):
        return send_from_directory(swagger_ui_path, filename, max_age=86400)


@dataclass(frozen=True)
class Refusal:
    """An error reply a route documents: `schema` when its body is not an `ErrorSchema`'s."""

    status: int
    body: dict
    description: str
    schema: object = None


def raised(error, description=None, schema=None):
    """The refusal of an `ApiError` (a class, or an instance for one that needs arguments)."""
    error = error() if isinstance(error, type) else error
    return Refusal(error.status_code, error.body(), description or error.message, schema)


def invalid_input(schema, location):
    """The refusals of a route whose `schema` refuses the body or query (their example: the errors of
    an empty one, or of its first field given an array), and for a JSON body, one not JSON."""
    schema = resolve_schema_instance(schema)
    name, field = next(iter(schema.load_fields.items()))
    messages = schema.validate({}) or schema.validate({field.data_key or name: []})
    body = {"message": errors.INVALID_DATA, "code": errors.code_for_status(400), "errors": {location: messages}}
    refusals = [Refusal(400, body, f"A field is missing or invalid: `errors.{location}` says which and why")]
    if location == "json":
        refusals += [raised(errors.InvalidJson, "The body is not JSON"), raised(errors.UnsupportedMediaType)]
    return refusals


def document(view, refusals):
    """`view`, documenting these refusals too, before those of the decorators below it (reading order)."""
    view._apidoc = deepcopy(getattr(view, "_apidoc", {}))
    view._apidoc["refusals"] = [*refusals, *view._apidoc.get("refusals", [])]
    return view


def prepare_refusals_doc(doc, doc_info, **kwargs):
    """flask-smorest's last step of an operation's documentation: its refusals replace its responses."""
    by_status = {}
    for refusal in doc_info.get("refusals", []):
        by_status.setdefault(refusal.status, []).append(refusal)
    for status, refusals in by_status.items():
        doc["responses"][status] = error_response(refusals)
    return doc


def error_response(refusals):
    """The response of refusals of one status: `code` the enum of theirs, each body an example."""
    codes = list(dict.fromkeys(refusal.body["code"] for refusal in refusals))
    schemas = {refusal.schema for refusal in refusals} - {None}
    if len(schemas) > 1:
        raise ValueError(f"Refusals of one status with two body schemas: {schemas}")
    examples = {}
    for refusal in refusals:
        name, number = refusal.body["code"], 1
        while name in examples:
            number += 1
            name = f"{refusal.body['code']}_{number}"
        # Swagger UI shows a summary as it is, not as Markdown.
        examples[name] = {"summary": refusal.description.replace("`", ""), "value": refusal.body}
    return {
        "description": "\n".join(f"- `{refusal.body['code']}`: {refusal.description}" for refusal in refusals),
        "content": {"application/json": {
            "schema": {
                "allOf": [schemas.pop() if schemas else errors.ErrorSchema],
                "required": ["code"],
                "properties": {"code": {"type": "string", "enum": codes}},
            },
            "examples": examples,
        }},
    }
