"""Nobody who knows an email can keep its owner out: failed logins count per email *and*
client address together, with a much higher cap per email from all addresses; logins that
succeed, or never name a valid email, count against neither."""

import pytest

from support import PASSWORD, at_once, command_on

ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"


@pytest.fixture
def settings(settings):
    return {
        **settings,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_LOGIN": "200 per minute",
        "RATELIMIT_LOGIN_EMAIL": "10 per minute",
        "RATELIMIT_LOGIN_EMAIL_ANY_ADDRESS": "25 per minute",
    }


@pytest.fixture
def ada(auth):
    return auth.signup(username="ada", email="ada@example.com")


def login(client, email, address, password="wrong password"):
    return client.post(
        "/auth/login", json={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


@pytest.mark.usefixtures("ada")
def test_failed_logins_from_one_address_leave_the_owner_in_from_another(client):
    statuses = [login(client, "ada@example.com", ATTACKER).status_code for _ in range(12)]

    assert statuses == [400] * 10 + [429] * 2
    assert login(client, "ada@example.com", ATTACKER, PASSWORD).status_code == 429
    owner = login(client, "ada@example.com", OWNER, PASSWORD)
    assert owner.status_code == 201
    assert owner.json["token"]


@pytest.mark.usefixtures("ada")
def test_logins_that_succeed_count_against_nothing(client):
    statuses = {login(client, "ada@example.com", OWNER, PASSWORD).status_code for _ in range(15)}

    assert statuses == {201}


def test_logins_for_an_unknown_email_count_as_failed(client):
    statuses = [login(client, "nobody@example.com", ATTACKER).status_code for _ in range(11)]

    assert statuses == [404] * 10 + [429]


@pytest.mark.usefixtures("ada")
def test_invalid_data_counts_against_the_address_only(client):
    for _ in range(12):
        response = client.post("/auth/login", json={"email": "ada@example.com"}, environ_base={"REMOTE_ADDR": OWNER})
        assert response.status_code == 400
        assert response.json["message"] == "Invalid data"

    assert login(client, "ada@example.com", OWNER, PASSWORD).status_code == 201


@pytest.mark.usefixtures("ada")
def test_failed_logins_from_many_addresses_meet_the_cap_per_email(client, auth):
    other = auth.signup(email="grace@example.com")
    statuses = [login(client, "ada@example.com", f"192.0.2.{n // 5}").status_code for n in range(25)]

    assert statuses == [400] * 25
    assert login(client, "ada@example.com", "192.0.2.200", PASSWORD).status_code == 429
    assert login(client, other["email"], "192.0.2.200", PASSWORD).status_code == 201


@pytest.mark.usefixtures("ada")
def test_every_spelling_of_one_email_shares_its_counters(client):
    spellings = ["ada@example.com", "ADA@Example.com", "Ada@EXAMPLE.COM", "ada@\uff45xample.com"]
    statuses = [login(client, spellings[n % 4], ATTACKER).status_code for n in range(11)]

    assert statuses == [400] * 10 + [429]


@pytest.mark.usefixtures("ada")
def test_a_login_is_counted_before_its_password_is_checked(client, spied):
    """The interleaving that let a burst through: one failing login, paused after it reads
    the user, while ten more fail. Counted after the answer, all eleven were told 400."""
    others = []
    spied.arm(
        command_on("find", "users"),
        lambda: others.extend(login(client, "ada@example.com", ATTACKER).status_code for _ in range(10)),
    )

    paused = login(spied.app.test_client(), "ada@example.com", ATTACKER)
    spied.outcome()

    assert paused.status_code == 400
    assert others == [400] * 9 + [429]


@pytest.mark.usefixtures("ada")
def test_thirty_failed_logins_sent_at_once_meet_the_limit(app):
    statuses = at_once(*[lambda: login(app.test_client(), "ada@example.com", ATTACKER).status_code] * 30)

    assert sorted(statuses) == [400] * 10 + [429] * 20


@pytest.mark.usefixtures("ada")
def test_a_refused_login_says_when_to_try_again(client):
    for _ in range(10):
        login(client, "ada@example.com", ATTACKER)

    refused = login(client, "ada@example.com", ATTACKER, PASSWORD)

    assert refused.status_code == 429
    assert refused.json == {"message": "Too many requests (10 per 1 minute); try again later", "code": "rate_limited"}
    assert 55 <= int(refused.headers["Retry-After"]) <= 60
