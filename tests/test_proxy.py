"""Behind nginx (`TRUST_PROXY=1`) the client address comes from X-Forwarded-For; without it,
forwarded headers are ignored, so nobody can dodge the rate limiter by forging one."""

import pytest

from ticket_api import close, create_app


def logins_from_forged_addresses(client, count, peer="127.0.0.1"):
    statuses = []
    for n in range(count):
        response = client.post(
            "/auth/login",
            json={"email": f"person{n}@example.com", "password": "wrong password"},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
            environ_base={"REMOTE_ADDR": peer},
        )
        statuses.append(response.status_code)
    return statuses


@pytest.fixture
def limited(settings):
    return {**settings, "RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN": "3 per minute"}


def test_forwarded_for_is_ignored_without_trust_proxy(limited):
    app = create_app({**limited, "TRUST_PROXY": 0})
    try:
        statuses = logins_from_forged_addresses(app.test_client(), 4)
    finally:
        close(app)

    assert statuses == [404, 404, 404, 429]


def test_forwarded_for_names_the_client_behind_one_trusted_proxy(limited):
    app = create_app({**limited, "TRUST_PROXY": 1})
    try:
        statuses = logins_from_forged_addresses(app.test_client(), 4)
    finally:
        close(app)

    assert statuses == [404, 404, 404, 404]


def test_forwarded_for_from_a_peer_that_is_not_the_proxy_is_ignored(limited):
    app = create_app({**limited, "TRUST_PROXY": 1})
    try:
        statuses = logins_from_forged_addresses(app.test_client(), 4, peer="203.0.113.9")
    finally:
        close(app)

    assert statuses == [404, 404, 404, 429]
