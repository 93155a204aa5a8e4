"""A token that outlived its user is refused on every authenticated route alike, and
changes nothing: `404 {"message": "User not found", "code": "user_not_found"}`."""

import pytest

from support import PASSWORD, VISA, bearer, db_id, in_days, intents_for, pay, reserve, stored

USER_NOT_FOUND = {"message": "User not found", "code": "user_not_found"}


@pytest.fixture
def gone(client, auth, events, database):
    """The headers of an admin who holds a pending ticket, deleted since: without the check,
    each route below would serve them (admin routes included)."""
    user = auth.signup()
    database.users.update_one({"_id": db_id(user)}, {"$set": {"role": "admin"}})
    headers = bearer(auth.login(user["email"]))
    event = events.create(capacity=10, price=2500)
    ticket = reserve(client, headers, event, quantity=2).json
    assert ticket["status"] == "pending"
    database.users.delete_one({"_id": db_id(user)})
    return headers, event, ticket


def requests_of(event, ticket):
    """Every authenticated route: (method, path, body, extra headers)."""
    payment = {"ticketId": ticket["_id"], "amount": ticket["amount"]}
    return {
        "my tickets": ("GET", "/auth/tickets", None, {}),
        "my tickets paged": ("GET", "/auth/tickets?page=1&limit=5", None, {}),
        "me": ("GET", "/auth/me", None, {}),
        "change password": ("POST", "/auth/password", {"currentPassword": PASSWORD, "newPassword": "n" * 8}, {}),
        "reserve": ("POST", "/tickets", {"eventId": event["_id"], "quantity": 1}, {}),
        "one ticket": ("GET", f"/tickets/{ticket['_id']}", None, {}),
        "every ticket": ("GET", "/tickets", None, {}),
        "create event": ("POST", "/events", {"name": "Late show", "date": in_days(40), "capacity": 5}, {}),
        "pay": ("POST", "/payment", {**payment, "token": VISA}, {}),
        "pay in the browser": ("POST", "/payment", payment, {}),
        "pay with an idempotency key": ("POST", "/payment", {**payment, "token": VISA}, {"Idempotency-Key": "k1"}),
    }


ROUTES = ["my tickets", "my tickets paged", "me", "change password", "reserve", "one ticket", "every ticket",
          "create event", "pay", "pay in the browser", "pay with an idempotency key"]


def snapshot(database):
    """What a request could change: events (their seats: a reservation takes seats before it
    reads the user, then gives them back), tickets, payments, idempotency keys, revoked tokens."""
    return {
        "seats": {event["_id"]: event["seatsTaken"] for event in database.events.find()},
        **{name: list(database[name].find())
           for name in ("tickets", "payments", "idempotency_keys", "revoked_tokens")},
    }


@pytest.mark.parametrize("route", ROUTES)
def test_a_deleted_users_token_is_404_user_not_found_and_changes_nothing(client, database, gone, route):
    headers, event, ticket = gone
    before = snapshot(database)

    method, path, body, extra = requests_of(event, ticket)[route]

    response = client.open(path, method=method, json=body, headers={**headers, **extra})

    assert response.status_code == 404
    assert response.json == USER_NOT_FOUND
    assert snapshot(database) == before
    assert "paymentIntent" not in stored(database, ticket)


def test_a_deleted_users_payment_never_reaches_stripe(client, gone, stand_in):
    headers, _, ticket = gone

    assert pay(client, headers, ticket).status_code == 404

    assert intents_for(stand_in, ticket) == []


def test_logout_with_a_deleted_users_token_still_logs_out(client, gone):
    headers, _, _ = gone

    response = client.post("/auth/logout", headers=headers)

    assert response.status_code == 200
    assert response.json == {"message": "Logged out"}
