"""`/healthz` pings the database: 200 when it answers, 503 when it does not (readiness).
`/livez` asks the database nothing: 200 while the process answers (liveness)."""

import pytest

from support import EmbeddedDatabase


def test_healthz_is_ok_when_the_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok"}


@pytest.mark.system
def test_healthz_is_503_when_the_database_is_gone(make_app):
    server = EmbeddedDatabase(":memory:").start()
    try:
        client = make_app(MONGODB_URI=server.uri, MONGODB_TIMEOUT_MS=300).test_client()
        assert client.get("/healthz").status_code == 200
    finally:
        server.stop()

    response = client.get("/healthz")
    down_elsewhere = client.post("/auth/login", json={"email": "a@example.com", "password": "x"})

    assert response.status_code == 503
    assert response.json == {"status": "unavailable"}
    assert down_elsewhere.status_code == 503
    assert down_elsewhere.json == {"message": "Database unavailable", "code": "database_unavailable"}


def test_livez_answers_without_a_database_command(counted):
    worker, log = counted

    response = worker.get("/livez")

    assert (response.status_code, response.json) == (200, {"status": "alive"})
    assert log.sent == []


@pytest.mark.system
def test_livez_is_ok_while_the_database_is_gone(make_app):
    """A database outage is no reason to restart the process: liveness stays 200."""
    server = EmbeddedDatabase(":memory:").start()
    try:
        client = make_app(MONGODB_URI=server.uri, MONGODB_TIMEOUT_MS=300).test_client()
    finally:
        server.stop()

    alive = client.get("/livez")

    assert client.get("/healthz").status_code == 503
    assert (alive.status_code, alive.json) == (200, {"status": "alive"})
