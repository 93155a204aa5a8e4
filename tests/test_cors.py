"""Browsers may call the API from the origins in CORS_ORIGINS, and from no other."""

ALLOWED = "http://localhost:3000"


def test_an_allowed_origin_gets_cors_headers(client):
    response = client.get("/healthz", headers={"Origin": ALLOWED})

    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_a_preflight_from_an_allowed_origin_allows_the_bearer_header(client):
    response = client.options(
        "/auth/tickets",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )

    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()


def test_an_unknown_origin_gets_no_cors_headers(client):
    response = client.get("/healthz", headers={"Origin": "https://evil.example"})

    assert response.status_code == 200
    assert not [name for name, _ in response.headers if name.startswith("Access-Control-")]


def test_cors_origins_come_from_the_settings(make_app):
    client = make_app(CORS_ORIGINS=["https://tickets.example"]).test_client()

    allowed = client.get("/healthz", headers={"Origin": "https://tickets.example"})
    default = client.get("/healthz", headers={"Origin": ALLOWED})

    assert allowed.headers["Access-Control-Allow-Origin"] == "https://tickets.example"
    assert "Access-Control-Allow-Origin" not in default.headers
