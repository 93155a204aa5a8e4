"""`/openapi.json` documents every route, from the schemas that validate."""


UNDOCUMENTED_ENDPOINTS = {"api-docs.openapi_json", "api-docs.openapi_swagger_ui", "docs_assets", "door.static"}
PROTECTED = {("/auth/tickets", "get"), ("/auth/me", "get"), ("/auth/password", "post"), ("/auth/refresh", "post")}
OPTIONAL_TOKEN = {("/auth/logout", "post")}


def openapi_path(rule):
    return rule.rule.replace("<", "{").replace(">", "}")


def test_every_route_in_the_url_map_is_documented(app, client):
    spec = client.get("/openapi.json").json

    for rule in app.url_map.iter_rules():
        if rule.endpoint in UNDOCUMENTED_ENDPOINTS:
            continue
        path = openapi_path(rule)
        assert path in spec["paths"], f"{rule.rule} is missing from /openapi.json"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in spec["paths"][path], f"{method} {rule.rule} is not documented"


def test_protected_routes_declare_the_bearer_scheme(client):
    spec = client.get("/openapi.json").json

    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, method in PROTECTED:
        assert spec["paths"][path][method]["security"] == [{"bearerAuth": []}]
    for path, method in OPTIONAL_TOKEN:
        assert {"bearerAuth": []} in spec["paths"][path][method]["security"]


def test_validation_errors_are_documented_as_400_not_422(client):
    signup = client.get("/openapi.json").json["paths"]["/auth/signup"]["post"]

    assert "400" in signup["responses"]
    assert "422" not in signup["responses"]
    assert "requestBody" in signup
    assert "409" in signup["responses"]


def test_logout_documents_its_optional_body_and_my_tickets_its_paging(client):
    spec = client.get("/openapi.json").json
    paths = spec["paths"]

    logout = paths["/auth/logout"]["post"]
    assert logout["requestBody"]["required"] is False
    body = logout["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(spec["components"]["schemas"][body]["properties"]) == {"refreshToken"}
    my_tickets = paths["/auth/tickets"]["get"]
    assert {(p["name"], p["required"]) for p in my_tickets["parameters"]} == {("page", False), ("limit", False)}
    assert "X-Total-Count" in my_tickets["responses"]["200"]["headers"]


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
