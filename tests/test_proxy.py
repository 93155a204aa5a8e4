"""Behind nginx (`TRUST_PROXY=1`) the client address comes from X-Forwarded-For; without it,
forwarded headers are ignored, so nobody can dodge the rate limiter by forging one."""

import pytest

from ticket_api import close, create_app


def logins_from_forged_addresses(settings, trust_proxy, count=4, peer="127.0.0.1"):
    """Wrong-password logins, each with another forged X-Forwarded-For, to an app with this
    `TRUST_PROXY`: the statuses say which address the limiter counted."""
    app = create_app({**settings, "TRUST_PROXY": trust_proxy})
    try:
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
    finally:
        close(app)


@pytest.fixture
def limited(settings):
    return {**settings, "RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN": "3 per minute"}


def test_forwarded_for_is_ignored_without_trust_proxy(limited):
    statuses = logins_from_forged_addresses(limited, trust_proxy=0)

    assert statuses == [404, 404, 404, 429]


def test_forwarded_for_names_the_client_behind_one_trusted_proxy(limited):
    statuses = logins_from_forged_addresses(limited, trust_proxy=1)

    assert statuses == [404, 404, 404, 404]


def test_forwarded_for_from_a_peer_that_is_not_the_proxy_is_ignored(limited):
    statuses = logins_from_forged_addresses(limited, trust_proxy=1, peer="203.0.113.9")

    assert statuses == [404, 404, 404, 429]
