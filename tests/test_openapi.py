"""`/openapi.json` documents every route, from the schemas that validate, in a shape code
generators take as it is (`test_openapi_tools.py` runs them): a stable `operationId` on
every operation, path parameters declared once, `security` on every operation, replies
whose every property is `required` (and true to it), `servers`, and the API's own
description on top; and Swagger UI reads well: plain summaries, tags in order."""

import re

import pytest
from schemathesis import openapi

from support import PASSWORD, bearer, error_responses, operations, pay, reserve

UNDOCUMENTED_ENDPOINTS = {"api-docs.openapi_json", "api-docs.openapi_swagger_ui", "docs_assets", "door.static"}
OPERATION_IDS = {
    ("/auth/signup", "post"): "signup",
    ("/auth/login", "post"): "login",
    ("/auth/logout", "post"): "logout",
    ("/auth/refresh", "post"): "refreshToken",
    ("/auth/me", "get"): "getMe",
    ("/auth/password", "post"): "changePassword",
    ("/auth/tickets", "get"): "listMyTickets",
    ("/events", "get"): "listEvents",
    ("/events", "post"): "createEvent",
    ("/events/{event_id}", "get"): "getEvent",
    ("/events/{event_id}", "patch"): "editEvent",
    ("/events/{event_id}/cancel", "post"): "cancelEvent",
    ("/events/{event_id}/tickets", "get"): "listEventTickets",
    ("/events/{event_id}/tickets", "post"): "sellAtBoxOffice",
    ("/events/{event_id}/summary", "get"): "getEventSummary",
    ("/tickets", "post"): "createTicket",
    ("/tickets", "get"): "listTickets",
    ("/tickets/{ticket_id}", "get"): "getTicket",
    ("/tickets/{ticket_id}/cancel", "post"): "cancelTicket",
    ("/tickets/{ticket_id}/qr.svg", "get"): "getTicketQrCode",
    ("/payment", "post"): "payTicket",
    ("/payment/webhook", "post"): "receiveStripeEvent",
    ("/checkin", "post"): "checkIn",
    ("/events/{event_id}/checkins", "get"): "getEventCheckins",
    ("/door", "get"): "getDoorPage",
    ("/healthz", "get"): "getHealth",
    ("/livez", "get"): "getLiveness",
}
PUBLIC = {("/auth/signup", "post"), ("/auth/login", "post"), ("/events", "get"), ("/events/{event_id}", "get"),
          ("/payment/webhook", "post"), ("/door", "get"), ("/healthz", "get"),
          ("/livez", "get")}
OPTIONAL_TOKEN = {("/auth/logout", "post")}
TAGS = ["auth", "events", "tickets", "payments", "door", "operations"]
MARKDOWN = re.compile(r"[`*_\[\]<>#|\n]")


@pytest.fixture
def spec(client):
    return client.get("/openapi.json").json


def openapi_path(rule):
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)


def test_every_route_in_the_url_map_is_documented(app, spec):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in UNDOCUMENTED_ENDPOINTS:
            continue
        path = openapi_path(rule)
        assert path in spec["paths"], f"{rule.rule} is missing from /openapi.json"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in spec["paths"][path], f"{method} {rule.rule} is not documented"


def test_every_operation_has_its_stable_operation_id(spec):
    assert {(path, method): operation.get("operationId") for path, method, operation in operations(spec)} \
        == OPERATION_IDS


def test_path_parameters_are_declared_once_for_their_path(spec):
    for path, item in spec["paths"].items():
        names = re.findall(r"{(\w+)}", path)
        assert [parameter["name"] for parameter in item.get("parameters", [])] == names, path
        for parameter in item.get("parameters", []):
            assert parameter["in"] == "path" and parameter["required"] is True
            assert parameter["schema"]["pattern"] == "^[0-9a-fA-F]{24}$"
        for method, operation in item.items():
            if method != "parameters":
                assert not [p for p in operation.get("parameters", []) if p.get("in") == "path"], (path, method)


def test_a_malformed_id_in_a_path_is_a_400_naming_it(client, events):
    response = client.get("/events/123/summary", headers=events.admin)

    assert (response.status_code, response.json) == (400, {
        "message": "Invalid data", "code": "invalid_data", "errors": {"path": {"event_id": ["Not a valid id."]}}})


def test_every_operation_declares_its_security(spec):
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, method, operation in operations(spec):
        if (path, method) in PUBLIC:
            assert operation["security"] == [], (path, method)
        elif (path, method) in OPTIONAL_TOKEN:
            assert operation["security"] == [{}, {"bearerAuth": []}], (path, method)
        else:
            assert operation["security"] == [{"bearerAuth": []}], (path, method)


def test_every_operation_taking_a_token_documents_its_refusals(spec):
    """A token refused (401), and a token whose user was deleted since (404)."""
    for path, method, operation in operations(spec):
        if operation["security"] == [{"bearerAuth": []}]:
            for status, code in (("401", "unauthorized"), ("404", "user_not_found")):
                refusal = operation["responses"][status]["content"]["application/json"]
                assert code in refusal["schema"]["properties"]["code"]["enum"], (path, method, status)


def test_the_document_names_its_server_from_the_settings(spec, make_app):
    other = make_app(OPENAPI_SERVER_URL="https://tickets.example.com").test_client().get("/openapi.json").json

    assert spec["servers"] == [{"url": "/"}]
    assert other["servers"] == [{"url": "https://tickets.example.com"}]


def test_the_description_on_top_says_how_to_use_the_api_and_lists_every_code(spec):
    description = spec["info"]["description"]
    answered = {code for _, _, _, response in error_responses(spec)
                for code in response["content"]["application/json"]["schema"]["properties"]["code"]["enum"]}

    for words in ("minor unit", "POST /auth/login", "Authorization: Bearer", "clientSecret", "202",
                  "GET /tickets/{ticket_id}", "Idempotency-Key"):
        assert words in description
    assert answered - set(re.findall(r"\| `(\w+)` \| \d{3} \|", description)) == set()
    assert len(answered) > 30


def test_summaries_are_plain_text_for_swagger_ui(spec):
    """Swagger UI shows a summary as it is (a description, and a tag's, as Markdown)."""
    for path, method, operation in operations(spec):
        assert not MARKDOWN.search(operation["summary"]), (path, method, operation["summary"])


def test_tags_are_ordered_as_a_frontend_meets_them(spec):
    assert [tag["name"] for tag in spec["tags"]] == TAGS
    assert {operation["tags"][0] for _, _, operation in operations(spec)} == set(TAGS)


def test_no_unused_component(spec):
    text = str(spec["paths"]) + str(spec["components"])
    for kind, components in spec["components"].items():
        if kind != "securitySchemes":
            for name in components:
                assert f"#/components/{kind}/{name}'" in text, f"{kind}/{name} is never used"


def test_every_route_answering_304_documents_if_none_match_and_the_etag(spec):
    """So a generated client can send `If-None-Match` and read the `ETag` it came from."""
    cached = {(path, method) for path, method, operation in operations(spec) if "304" in operation["responses"]}
    assert cached == {("/events", "get"), ("/events/{event_id}", "get")}
    for path, method in cached:
        operation = spec["paths"][path][method]
        assert {"$ref": "#/components/parameters/IF_NONE_MATCH"} in operation["parameters"], path
        assert operation["responses"]["200"]["headers"]["ETag"] == {"$ref": "#/components/headers/ETAG"}, path


def test_validation_errors_are_documented_as_400_not_422(spec):
    signup = spec["paths"]["/auth/signup"]["post"]

    assert "400" in signup["responses"]
    assert "422" not in signup["responses"]
    assert "requestBody" in signup


def test_logout_documents_its_optional_body_and_my_tickets_its_paging(spec):
    logout = spec["paths"]["/auth/logout"]["post"]
    assert logout["requestBody"]["required"] is False
    body = logout["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(spec["components"]["schemas"][body]["properties"]) == {"refreshToken"}
    my_tickets = spec["paths"]["/auth/tickets"]["get"]
    assert {(p["name"], p["required"]) for p in my_tickets["parameters"]} == {("page", False), ("limit", False)}
    assert "X-Total-Count" in my_tickets["responses"]["200"]["headers"]


def test_reply_properties_are_required_and_nullable_where_they_may_be_null(spec):
    schemas = spec["components"]["schemas"]

    assert set(schemas["Ticket"]["required"]) == set(schemas["Ticket"]["properties"])
    assert schemas["Ticket"]["properties"]["expiresAt"]["nullable"] is True
    assert schemas["TicketWithHolder"]["properties"]["holder"] == {
        "type": "object", "nullable": True, "allOf": [{"$ref": "#/components/schemas/Holder"}]}
    assert schemas["Holder"]["required"] == ["email"]  # a user's `_id` and `username`, or a walk-in's `name`
    assert "required" not in schemas["Payment"]["properties"]["token"]


def test_every_reply_property_has_an_example_so_swagger_ui_never_invents_one(spec):
    """A property with no example is shown by Swagger UI as "string" or 0 (`maxPerUser: 0`,
    a user named "string"), which no reply of this API holds."""
    schemas, seen, missing = spec["components"]["schemas"], set(), []

    def check(schema, where):
        for ref in [schema] + schema.get("allOf", []):
            name = ref.get("$ref", "").rpartition("/")[2]
            if name and name not in seen:
                seen.add(name)
                check(schemas[name], name)
        for key, value in schema.get("properties", {}).items():
            check(value, f"{where}.{key}")
        if "items" in schema:
            check(schema["items"], f"{where}[]")
        if schema.get("type") in ("string", "integer") and not {"example", "enum", "format"} & set(schema):
            missing.append(where)

    for path, method, operation in operations(spec):
        for status, response in operation["responses"].items():
            reply = response.get("content", {}).get("application/json", {})
            if status.startswith("2") and "example" not in reply and "schema" in reply:
                check(reply["schema"], f"{method} {path} {status}")
    assert not missing, ", ".join(missing)


def test_a_document_stored_without_some_fields_still_replies_with_every_property(client, events, buyer, database):
    """Stored by an older version, or by hand: `location`, `description`, `image`, `expiresAt` absent."""
    document = openapi.from_dict(client.get("/openapi.json").json)
    event = events.create(price=0)
    ticket = reserve(client, buyer, event).json
    database.events.update_one({}, {"$unset": {"location": "", "description": "", "image": ""}})
    database.tickets.update_one({}, {"$unset": {"expiresAt": ""}})

    shown = client.get(f"/events/{event['_id']}")
    held = client.get(f"/tickets/{ticket['_id']}", headers=buyer)

    document["/events/{event_id}"]["GET"].validate_response(shown)
    document["/tickets/{ticket_id}"]["GET"].validate_response(held)
    assert (shown.json["location"], shown.json["description"], shown.json["image"]) == ("", "", None)
    assert held.json["expiresAt"] is None


def test_every_reply_has_what_the_document_requires(client, auth, events):
    """The replies of a buyer's and the staff's day, each validated against its operation's
    schema in the document: a property listed as `required` that a reply lacks fails."""
    document = openapi.from_dict(client.get("/openapi.json").json)
    replies = []

    def call(method, path, operation_path=None, **kwargs):
        response = getattr(client, method)(path, **kwargs)
        replies.append((operation_path or path, method, response))
        return response

    admin, door = events.admin, auth.door_headers()
    user = auth.signup()
    login = call("post", "/auth/login", json={"email": user["email"], "password": PASSWORD})
    buyer = bearer(login.json["token"])
    call("get", "/auth/me", headers=buyer)
    call("post", "/auth/refresh", headers=bearer(login.json["refreshToken"]))
    event = call("post", "/events", json={"name": "Jazz", "date": "2030-01-01T20:00:00Z", "capacity": 9,
                                          "price": 2500}, headers=admin).json
    at = f"/events/{event['_id']}"
    call("get", at, "/events/{event_id}")
    call("patch", at, "/events/{event_id}", json={"location": "Main hall"}, headers=admin)
    call("get", "/events")
    held = reserve(client, buyer, event).json
    call("get", f"/tickets/{held['_id']}", "/tickets/{ticket_id}", headers=buyer)
    replies.append(("/payment", "post", pay(client, buyer, held)))
    replies.append(("/payment", "post", pay(client, buyer, reserve(client, buyer, event).json, token=None)))
    replies.append(("/tickets", "post", reserve(client, buyer, event, quantity=8)))
    call("post", f"/tickets/{held['_id']}/cancel", "/tickets/{ticket_id}/cancel", headers=buyer)
    walk_in = call("post", f"{at}/tickets", "/events/{event_id}/tickets", headers=admin,
                   json={"quantity": 1, "paidWith": "comp", "name": "Grace Hopper"}).json
    call("post", f"{at}/tickets", "/events/{event_id}/tickets", headers=admin,
         json={"quantity": 1, "paidWith": "cash", "email": user["email"]})
    call("get", f"{at}/tickets", "/events/{event_id}/tickets", headers=admin)
    call("get", f"{at}/summary", "/events/{event_id}/summary", headers=admin)
    call("get", "/tickets", headers=admin)
    call("get", "/auth/tickets", headers=buyer)
    call("post", "/checkin", json={"code": walk_in["code"]}, headers=door)
    call("post", "/checkin", json={"code": walk_in["code"]}, headers=door)
    call("get", f"{at}/checkins", "/events/{event_id}/checkins", headers=door)
    call("post", f"{at}/cancel", "/events/{event_id}/cancel", json={}, headers=admin)
    call("get", "/healthz")
    call("post", "/auth/logout", headers=buyer)

    assert {(path, method, response.status_code) for path, method, response in replies} >= {
        ("/payment", "post", 200), ("/payment", "post", 202), ("/tickets", "post", 409), ("/checkin", "post", 409)}
    for path, method, response in replies:
        assert response.status_code < 500, (path, method, response.json)
        document[path][method.upper()].validate_response(response)


def test_docs_page_serves_swagger_ui_from_the_service_itself(client):
    page = client.get("/docs")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/docs/assets/swagger-ui-bundle.js" in html
    assert "/openapi.json" in html
    assert "persistAuthorization" in html
    assert "http://" not in html and "https://" not in html  # nothing from a CDN


def test_docs_assets_are_served(client):
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        response = client.get(f"/docs/assets/{asset}")
        assert response.status_code == 200
        assert len(response.get_data()) > 1000
        response.close()


def test_docs_assets_stay_in_their_folder(client):
    assert client.get("/docs/assets/../../__init__.py").status_code == 404
