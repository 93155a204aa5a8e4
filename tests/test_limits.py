"""Login and signup are rate limited per address (failed logins also per email: test_lockout.py),
counted in MongoDB."""

import pytest

from support import PASSWORD

FROM = {"REMOTE_ADDR": "203.0.113.7"}


@pytest.fixture
def settings(settings):
    return {
        **settings,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_LOGIN": "6 per minute",
        "RATELIMIT_LOGIN_EMAIL": "3 per minute",
        "RATELIMIT_LOGIN_EMAIL_ANY_ADDRESS": "100 per minute",
        "RATELIMIT_SIGNUP": "2 per minute",
    }


def login(client, email, address="203.0.113.7"):
    return client.post(
        "/auth/login",
        json={"email": email, "password": "wrong password"},
        environ_base={"REMOTE_ADDR": address},
    )


def test_failed_logins_are_limited_per_email_and_address(client, auth):
    user = auth.signup()
    statuses = [login(client, user["email"]).status_code for _ in range(4)]

    assert statuses == [400, 400, 400, 429]
    response = login(client, user["email"].upper())
    assert response.status_code == 429
    assert response.json["message"].startswith("Too many requests")
    assert int(response.headers["Retry-After"]) > 0
    assert login(client, "someone.else@example.com").status_code == 404
    assert login(client, user["email"], "198.51.100.99").status_code == 400


def test_login_is_limited_per_address(client):
    statuses = [login(client, f"person{n}@example.com").status_code for n in range(7)]

    assert statuses == [404] * 6 + [429]
    assert login(client, "fresh@example.com", "192.0.2.1").status_code == 404


def test_signup_is_limited_per_address(client, database):
    def signup(n, address="203.0.113.7"):
        body = {"username": f"user{n}", "email": f"user{n}@example.com", "password": PASSWORD}
        return client.post("/auth/signup", json=body, environ_base={"REMOTE_ADDR": address})

    assert [signup(n).status_code for n in range(3)] == [201, 201, 429]
    assert database.users.count_documents({}) == 2
    assert signup(9, "192.0.2.1").status_code == 201


def test_the_counters_live_in_mongodb(client, database):
    login(client, "ada@example.com")

    assert database.windows.count_documents({}) > 0


def test_a_second_app_on_the_same_database_shares_the_counters(make_app, client):
    for n in range(6):
        login(client, f"person{n}@example.com")
    other_app = make_app()

    assert login(other_app.test_client(), "x@example.com").status_code == 429


def test_disabled_limits_never_answer_429(make_app):
    client = make_app(RATELIMIT_ENABLED=False).test_client()

    statuses = {login(client, "ada@example.com").status_code for _ in range(12)}

    assert statuses == {404}
