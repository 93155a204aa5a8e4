"""Two workers on one database: what one decides applies on the other's very next request,
and a page one of them cached never decides a seat."""

import pytest

from support import PASSWORD, bearer, db_id, reserve, seats_taken, stored
from ticket_api.events import listing
from ticket_api.stores import events as event_store


@pytest.fixture
def other(make_app):
    """A second worker: its own app, client and caches, on the test's database."""
    return make_app().test_client()


def test_a_logout_on_one_worker_is_refused_by_another_on_the_next_request(client, other, auth):
    user = auth.signup()
    headers = bearer(auth.login(user["email"]))
    assert other.get("/auth/me", headers=headers).status_code == 200

    assert client.post("/auth/logout", headers=headers).status_code == 200

    refused = other.get("/auth/me", headers=headers)
    assert refused.status_code == 401
    assert refused.json["message"] == "Token has been revoked"


def test_a_password_change_on_one_worker_ends_the_old_sessions_on_another(client, other, auth):
    user = auth.signup()
    headers = bearer(auth.login(user["email"]))
    assert other.get("/auth/me", headers=headers).status_code == 200

    changed = client.post("/auth/password", json={"currentPassword": PASSWORD, "newPassword": "another horse battery"},
                          headers=headers)
    assert changed.status_code == 200

    assert other.get("/auth/me", headers=headers).status_code == 401


def test_a_role_taken_away_on_one_worker_applies_on_another_at_the_next_request(runner, other, auth):
    user = auth.signup()
    auth.app.test_cli_runner().invoke(args=["set-role", user["email"], "admin"])
    headers = bearer(auth.login(user["email"]))
    assert other.get("/tickets", headers=headers).status_code == 200

    assert runner.invoke(args=["set-role", user["email"], "user"]).exit_code == 0

    assert other.get("/tickets", headers=headers).status_code == 403


@pytest.fixture
def pages_kept_long(monkeypatch):
    """Cached pages kept for a minute: a page cached before another worker's sale is still
    served after it, every time."""
    monkeypatch.setattr(listing, "MAX_AGE", 60)


@pytest.mark.usefixtures("pages_kept_long")
def test_a_page_showing_free_seats_never_sells_a_seat_that_is_gone(client, other, auth, events, database):
    event = events.create(capacity=2, price=0)
    assert other.get(f"/events/{event['_id']}").json["ticketsAvailable"] == 2  # cached by `other`
    assert reserve(client, auth.user_headers(), event, quantity=2).status_code == 201

    assert other.get(f"/events/{event['_id']}").json["ticketsAvailable"] == 2  # the stale page
    refused = reserve(other, auth.user_headers(), event)

    assert refused.status_code == 409
    assert refused.json["code"] == "sold_out"
    assert seats_taken(database, event) == 2


@pytest.mark.usefixtures("pages_kept_long")
def test_a_page_showing_sold_out_never_refuses_a_seat_that_came_back(client, other, auth, events, database):
    event = events.create(capacity=2, price=0)
    holder = auth.user_headers()
    ticket = reserve(client, holder, event, quantity=2).json
    assert other.get(f"/events/{event['_id']}").json["ticketsAvailable"] == 0  # cached by `other`
    assert client.post(f"/tickets/{ticket['_id']}/cancel", headers=holder).status_code == 200

    assert other.get(f"/events/{event['_id']}").json["ticketsAvailable"] == 0  # the stale page
    sold = reserve(other, auth.user_headers(), event)

    assert sold.status_code == 201
    assert stored(database, sold.json)["event"] == db_id(event)
    assert seats_taken(database, event) == 1


def test_a_sold_out_answer_is_decided_on_a_read_at_most_half_a_second_old(client, other, auth, events, monkeypatch):
    """`events.recent`: a worker decides "sold out" on the event as it read it lately; a seat
    given back on another worker is sold by it once that read is `RECENT_FOR` old."""
    event = events.create(capacity=1, price=0)
    holder = auth.user_headers()
    ticket = reserve(client, holder, event).json
    assert reserve(other, auth.user_headers(), event).json["code"] == "sold_out"  # read by `other`
    assert client.post(f"/tickets/{ticket['_id']}/cancel", headers=holder).status_code == 200

    monkeypatch.setattr(event_store, "RECENT_FOR", 60)
    assert reserve(other, auth.user_headers(), event).json["code"] == "sold_out"
    monkeypatch.setattr(event_store, "RECENT_FOR", 0)
    assert reserve(other, auth.user_headers(), event).status_code == 201


def test_a_seat_given_back_on_a_worker_is_sold_by_it_at_once(client, other, auth, events, monkeypatch):
    """A worker's own write drops what it read of the event (`events.written`)."""
    monkeypatch.setattr(event_store, "RECENT_FOR", 60)
    event = events.create(capacity=1, price=0)
    holder = auth.user_headers()
    ticket = reserve(other, holder, event).json
    assert reserve(client, auth.user_headers(), event).json["code"] == "sold_out"  # read by `client`'s worker
    assert client.post(f"/tickets/{ticket['_id']}/cancel", headers=holder).status_code == 200

    assert reserve(client, auth.user_headers(), event).status_code == 201
