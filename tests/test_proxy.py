"""Behind nginx (`TRUST_PROXY=1`) the client address comes from X-Forwarded-For; without it,
forwarded headers are ignored, so nobody can dodge the rate limiter by forging one."""

import pytest


@pytest.fixture
def settings(settings):
    return {**settings, "RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN": "3 per minute"}


def logins_from_forged_addresses(app, count=4, peer="127.0.0.1"):
    """Wrong-password logins, each with another forged X-Forwarded-For: the statuses say
    which address the limiter counted."""
    client = app.test_client()
    return [
        client.post(
            "/auth/login",
            json={"email": f"person{n}@example.com", "password": "wrong password"},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
            environ_base={"REMOTE_ADDR": peer},
        ).status_code
        for n in range(count)
    ]


def test_forwarded_for_is_ignored_without_trust_proxy(make_app):
    statuses = logins_from_forged_addresses(make_app(TRUST_PROXY=0))

    assert statuses == [404, 404, 404, 429]


def test_forwarded_for_names_the_client_behind_one_trusted_proxy(make_app):
    statuses = logins_from_forged_addresses(make_app(TRUST_PROXY=1))

    assert statuses == [404, 404, 404, 404]


def test_forwarded_for_from_a_peer_that_is_not_the_proxy_is_ignored(make_app):
    statuses = logins_from_forged_addresses(make_app(TRUST_PROXY=1), peer="203.0.113.9")

    assert statuses == [404, 404, 404, 429]
