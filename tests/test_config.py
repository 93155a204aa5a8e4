"""Settings come from the environment; production refuses to guess the ones it needs."""

import subprocess
import sys

import pytest

from ticket_api import create_app
from ticket_api.config import Config, ConfigError, check
from ticket_api.dev.launcher import kept_secret


@pytest.mark.parametrize("missing", ["JWT_SECRET_KEY", "MONGODB_URI", "STRIPE_SECRET_KEY"])
def test_production_refuses_to_start_without_a_required_setting(settings, missing):
    production = {**settings, "APP_ENV": "production", "STRIPE_SECRET_KEY": "sk_test_x", missing: None}

    with pytest.raises(ConfigError, match=missing):
        create_app(production)


@pytest.mark.system
def test_production_refusal_is_one_clear_line(tmp_path):
    env = {"APP_ENV": "production", "PATH": "", "DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "ticket_api cannot start: APP_ENV=production needs JWT_SECRET_KEY, MONGODB_URI, "
        "STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET: set them in the environment or .env"
    ]


def production_env(tmp_path, **changes):
    """A complete production environment (nothing is connected to: the start fails first)."""
    env = {
        "APP_ENV": "production", "PATH": "", "DATA_DIR": str(tmp_path), "MONGODB_URI": "mongodb://127.0.0.1:1",
        "JWT_SECRET_KEY": "p" * 32, "STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x",
        **changes,
    }
    return {name: value for name, value in env.items() if value is not None}


def start_lines(env):
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    return result.stderr.strip().splitlines()


def test_production_refuses_a_jwt_secret_shorter_than_32_characters(settings):
    production = {**settings, "APP_ENV": "production", "JWT_SECRET_KEY": "k" * 31}

    with pytest.raises(ConfigError, match="JWT_SECRET_KEY of at least 32 characters \\(this one has 31\\)"):
        create_app(production)


def test_production_refuses_to_start_without_a_webhook_secret(settings):
    production = {**settings, "APP_ENV": "production", "STRIPE_WEBHOOK_SECRET": None}

    with pytest.raises(ConfigError, match="needs STRIPE_WEBHOOK_SECRET"):
        create_app(production)


@pytest.mark.system
def test_a_weak_secret_is_one_line_that_never_shows_it(tmp_path):
    lines = start_lines(production_env(tmp_path, JWT_SECRET_KEY="a"))

    assert len(lines) == 1
    assert "APP_ENV=production needs a JWT_SECRET_KEY of at least 32 characters (this one has 1)" in lines[0]
    assert "=a" not in lines[0]


@pytest.mark.system
def test_every_malformed_number_is_named_in_one_line(tmp_path):
    lines = start_lines(production_env(tmp_path, HOLD_MINUTES="abc", WEB_CONCURRENCY="abc", TRUST_PROXY="-1"))

    assert lines == [
        "ticket_api cannot start: malformed settings: HOLD_MINUTES='abc' (a whole number); "
        "TRUST_PROXY='-1' (a whole number); WEB_CONCURRENCY='abc' (a whole number): "
        "fix them in the environment or .env"
    ]


@pytest.mark.system
def test_token_lifetimes_are_whole_numbers_of_seconds_not_zero(tmp_path):
    """A lifetime of 0 would make flask-jwt-extended issue tokens that never expire."""
    lines = start_lines(production_env(tmp_path, JWT_ACCESS_TOKEN_EXPIRES="0", JWT_REFRESH_TOKEN_EXPIRES="30d"))

    assert lines == [
        "ticket_api cannot start: malformed settings: JWT_ACCESS_TOKEN_EXPIRES='0' (a whole number of at least 1); "
        "JWT_REFRESH_TOKEN_EXPIRES='30d' (a whole number of at least 1): fix them in the environment or .env"
    ]


def test_the_refresh_token_lifetime_defaults_to_30_days(monkeypatch):
    monkeypatch.delenv("JWT_REFRESH_TOKEN_EXPIRES", raising=False)

    assert Config().JWT_REFRESH_TOKEN_EXPIRES == 30 * 24 * 3600


@pytest.mark.system
def test_an_inline_comment_kept_in_a_value_is_refused_by_name(tmp_path):
    """What systemd's EnvironmentFile makes of `STRIPE_WEBHOOK_SECRET=whsec_x  # from step 6`."""
    env = production_env(tmp_path, STRIPE_WEBHOOK_SECRET="whsec_x  # from step 6", WEB_CONCURRENCY="2   # workers")

    lines = start_lines(env)

    assert len(lines) == 1
    assert "WEB_CONCURRENCY='2   # workers' (a whole number)" in lines[0]
    assert "STRIPE_WEBHOOK_SECRET ends in a # comment (put comments on a line of their own)" in lines[0]
    assert "whsec_x" not in lines[0]


def test_the_launcher_generates_the_development_jwt_secret_once_and_keeps_it(tmp_path):
    first = kept_secret(tmp_path / "jwt-secret")
    second = kept_secret(tmp_path / "jwt-secret")

    assert len(first) >= 32
    assert first == second == (tmp_path / "jwt-secret").read_text()
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o077 == 0


def test_development_without_a_database_says_how_to_get_one():
    settings = {"APP_ENV": "development", "MONGODB_URI": None, "JWT_SECRET_KEY": "k", "STRIPE_SECRET_KEY": "sk_x"}

    with pytest.raises(ConfigError, match="no MONGODB_URI: .* or start the service with `make run`"):
        check(settings)


def test_every_setting_of_the_contract_is_read_from_the_environment(monkeypatch):
    values = {
        "APP_ENV": "production", "MONGODB_URI": "mongodb://db.example:27017", "MONGODB_DB": "venue",
        "DATA_DIR": "/srv/data", "JWT_SECRET_KEY": "k" * 40, "JWT_ACCESS_TOKEN_EXPIRES": "600",
        "JWT_REFRESH_TOKEN_EXPIRES": "86400",
        "BCRYPT_ROUNDS": "13", "STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_API_BASE": "http://stripe.local",
        "STRIPE_WEBHOOK_SECRET": "whsec_x", "CORS_ORIGINS": "https://a.example, https://b.example",
        "HOLD_MINUTES": "5", "RATELIMIT_ENABLED": "false", "DEFAULT_CURRENCY": "EUR", "TRUST_PROXY": "1",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)

    config = Config()

    assert config.APP_ENV == "production"
    assert config.MONGODB_URI == "mongodb://db.example:27017"
    assert config.MONGODB_DB == "venue"
    assert str(config.DATA_DIR) == "/srv/data"
    assert config.JWT_ACCESS_TOKEN_EXPIRES == 600
    assert config.JWT_REFRESH_TOKEN_EXPIRES == 86400
    assert config.BCRYPT_ROUNDS == 13
    assert config.STRIPE_SECRET_KEY == "sk_live_x"
    assert config.STRIPE_API_BASE == "http://stripe.local"
    assert config.STRIPE_WEBHOOK_SECRET == "whsec_x"
    assert config.CORS_ORIGINS == ["https://a.example", "https://b.example"]
    assert config.HOLD_MINUTES == 5
    assert config.RATELIMIT_ENABLED is False
    assert config.DEFAULT_CURRENCY == "eur"
    assert config.TRUST_PROXY == 1


def test_a_malformed_rate_limit_is_named(monkeypatch):
    monkeypatch.setenv("RATELIMIT_LOGIN_EMAIL", "ten a minute")

    with pytest.raises(ConfigError, match="RATELIMIT_LOGIN_EMAIL='ten a minute' \\(limits such as"):
        Config()
