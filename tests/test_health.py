"""`/healthz` pings the database: 200 when it answers, 503 when it does not."""

from ticket_api import close, create_app
from ticket_api.dev.embedded import EmbeddedDatabase


def test_healthz_is_ok_when_the_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_healthz_is_503_when_the_database_is_gone(settings):
    server = EmbeddedDatabase(":memory:").start()
    app = create_app({**settings, "MONGODB_URI": server.uri, "MONGODB_TIMEOUT_MS": 300})
    try:
        client = app.test_client()
        assert client.get("/healthz").status_code == 200
        server.stop()

        response = client.get("/healthz")
        down_elsewhere = client.post("/auth/login", json={"email": "a@example.com", "password": "x"})
    finally:
        close(app)

    assert response.status_code == 503
    assert response.json == {"status": "unavailable"}
    assert down_elsewhere.status_code == 503
    assert down_elsewhere.json == {"message": "Database unavailable"}
