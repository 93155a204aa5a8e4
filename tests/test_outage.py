"""The database stopped under a running app, then started again: JSON errors within the
server-selection timeout, the process lives, and it serves again without a restart."""

import time

import pytest

from support import PASSWORD, AuthActions, EmbeddedDatabase

pytestmark = pytest.mark.system  # (pyproject.toml: the system tests)

TIMEOUT_MS = 500


@pytest.fixture
def own_database(tmp_path):
    server = EmbeddedDatabase(tmp_path / "db").start()
    yield server
    server.stop()


def every_route(event_id, ticket_id):
    return [
        ("POST", "/auth/signup", {"username": "bob", "email": "bob@example.com", "password": PASSWORD}),
        ("POST", "/auth/login", {"email": "ada@example.com", "password": PASSWORD}),
        ("POST", "/auth/logout", None),
        ("GET", "/auth/tickets", None),
        ("GET", "/events", None),
        ("GET", f"/events/{event_id}", None),
        ("POST", "/events", {"name": "x", "date": "2030-01-01T00:00:00Z", "capacity": 5}),
        ("POST", "/tickets", {"eventId": event_id}),
        ("GET", f"/tickets/{ticket_id}", None),
        ("GET", "/tickets", None),
        ("POST", "/payment", {"ticketId": ticket_id, "amount": 100, "token": "pm_card_visa"}),
    ]


def test_database_down_then_back(make_app, own_database):
    app = make_app(MONGODB_URI=own_database.uri, MONGODB_TIMEOUT_MS=TIMEOUT_MS)
    client = app.test_client()
    headers = AuthActions(client, app).admin_headers()
    event = client.post("/events", json={"name": "Jazz", "date": "2030-01-01T20:00:00Z", "capacity": 5,
                                         "price": 100}, headers=headers).json
    ticket = client.post("/tickets", json={"eventId": event["_id"]}, headers=headers).json
    own_database.stop()

    health = client.get("/healthz")
    assert (health.status_code, health.json) == (503, {"status": "unavailable"})
    for method, path, body in every_route(event["_id"], ticket["_id"]):
        started = time.monotonic()
        response = client.open(path, method=method, json=body, headers=headers)
        elapsed = time.monotonic() - started
        assert response.status_code == 503, (method, path, response.status_code)
        assert response.json == {"message": "Database unavailable", "code": "database_unavailable"}, (method, path)
        assert elapsed < 10 * TIMEOUT_MS / 1000, (method, path, elapsed)  # bounded, not pymongo's 30 s

    own_database.start()  # the same files, the same port
    back = client.get("/healthz")
    listed = client.get("/events")
    mine = client.get("/auth/tickets", headers=headers)

    assert back.json == {"status": "ok"}
    assert listed.status_code == 200 and listed.json[0]["ticketsAvailable"] == 4
    assert [t["_id"] for t in mine.json] == [ticket["_id"]]
