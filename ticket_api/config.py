"""Every setting of the service, read once from the environment (and `.env`); README.md has the
table of what each means, and `.env.example` is a commented copy."""

import os
from pathlib import Path

import limits
from dotenv import load_dotenv

load_dotenv()

REQUIRED = ("JWT_SECRET_KEY", "MONGODB_URI", "STRIPE_SECRET_KEY")
PRODUCTION_REQUIRED = (*REQUIRED, "STRIPE_WEBHOOK_SECRET")
MIN_JWT_SECRET_LENGTH = 32


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and what to do."""


def as_bool(value):
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def env(name, default=None):
    value = os.environ.get(name, "").strip()
    return value if value else default


def inline_comment(value):
    """Whether a raw value carries a `# comment` after it: systemd's EnvironmentFile keeps
    those in the value (python-dotenv drops them), so the setting would silently be wrong."""
    return any(char.isspace() and value[index + 1:].lstrip().startswith("#") for index, char in enumerate(value))


class Config:
    """Settings for one app, from the environment at the time it is built."""

    def __init__(self):
        self.malformed = []  # "NAME='value' (what it should be)", named together in one ConfigError
        self.APP_ENV = env("APP_ENV", "development")
        self.DATA_DIR = Path(env("DATA_DIR", "instance"))
        self.MONGODB_URI = env("MONGODB_URI")
        self.MONGODB_DB = env("MONGODB_DB", "ticket_api")
        self.MONGODB_TIMEOUT_MS = self.number("MONGODB_TIMEOUT_MS", "5000")
        self.JWT_SECRET_KEY = env("JWT_SECRET_KEY")
        # At least a second: flask-jwt-extended gives a token of lifetime 0 no expiry at all.
        self.JWT_ACCESS_TOKEN_EXPIRES = self.number("JWT_ACCESS_TOKEN_EXPIRES", "3600", minimum=1)
        self.JWT_REFRESH_TOKEN_EXPIRES = self.number("JWT_REFRESH_TOKEN_EXPIRES", str(30 * 24 * 3600), minimum=1)
        self.BCRYPT_ROUNDS = self.number("BCRYPT_ROUNDS", "12")
        self.STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY")
        self.STRIPE_API_BASE = env("STRIPE_API_BASE")
        self.STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET")
        self.CORS_ORIGINS = [
            origin.strip()
            for origin in env("CORS_ORIGINS", "http://localhost:3000,http://localhost:5173").split(",")
            if origin.strip()
        ]
        self.HOLD_MINUTES = self.number("HOLD_MINUTES", "15")
        self.STRIPE_TIMEOUT_SECONDS = self.number("STRIPE_TIMEOUT_SECONDS", "10", float)
        self.STRIPE_MAX_RETRIES = self.number("STRIPE_MAX_RETRIES", "2")
        self.RATELIMIT_ENABLED = as_bool(env("RATELIMIT_ENABLED", "true"))
        self.RATELIMIT_LOGIN = self.rate_limit("RATELIMIT_LOGIN", "20 per minute")
        self.RATELIMIT_LOGIN_EMAIL = self.rate_limit("RATELIMIT_LOGIN_EMAIL", "10 per minute;20 per hour")
        self.RATELIMIT_LOGIN_EMAIL_ANY_ADDRESS = self.rate_limit("RATELIMIT_LOGIN_EMAIL_ANY_ADDRESS", "100 per hour")
        self.RATELIMIT_SIGNUP = self.rate_limit("RATELIMIT_SIGNUP", "10 per minute")
        self.RATELIMIT_RESERVE = self.rate_limit("RATELIMIT_RESERVE", "30 per minute")
        self.RATELIMIT_CHECKIN = self.rate_limit("RATELIMIT_CHECKIN", "120 per minute")
        self.DEFAULT_CURRENCY = env("DEFAULT_CURRENCY", "usd").lower()
        self.TRUST_PROXY = self.number("TRUST_PROXY", "0")
        self.FORWARDED_ALLOW_IPS = [ip.strip() for ip in env("FORWARDED_ALLOW_IPS", "127.0.0.1,::1").split(",")]
        self.MAX_CONTENT_LENGTH = self.number("MAX_CONTENT_LENGTH", str(1024 * 1024))
        self.OPENAPI_SERVER_URL = env("OPENAPI_SERVER_URL", "/")
        self.WEB_CONCURRENCY = self.number("WEB_CONCURRENCY", "2")  # gunicorn's, checked with the rest
        self.GUNICORN_THREADS = self.number("GUNICORN_THREADS", "8")
        self.refuse_malformed()

    def number(self, name, default, kind=int, minimum=0):
        """A number setting of at least `minimum`; a malformed one is noted, so all are named in one error."""
        value = env(name, default)
        try:
            number = kind(value)
        except ValueError:
            number = None
        if number is None or number < minimum:
            expected = "a whole number" if kind is int else "a number"
            self.malformed.append(f"{name}={value!r} ({expected}{f' of at least {minimum}' if minimum else ''})")
        return number

    def rate_limit(self, name, default):
        """A rate limit in flask-limiter's notation ("10 per minute;20 per hour"), noted if malformed."""
        value = env(name, default)
        try:
            limits.parse_many(value)
        except ValueError:
            self.malformed.append(f"{name}={value!r} (limits such as '10 per minute;20 per hour')")
        return value

    def refuse_malformed(self):
        """:raise ConfigError: naming every malformed setting, and any carrying an inline comment."""
        for name in sorted(key for key in vars(self) if key.isupper()):
            raw = os.environ.get(name, "")
            if inline_comment(raw) and not any(problem.startswith(f"{name}=") for problem in self.malformed):
                self.malformed.append(f"{name} ends in a # comment (put comments on a line of their own)")
        if self.malformed:
            raise ConfigError(f"malformed settings: {'; '.join(self.malformed)}: fix them in the environment or .env")

    def as_dict(self):
        return {key: value for key, value in vars(self).items() if key.isupper()}


def check(settings):
    """Refuse to start without what the service cannot guess (`make run` supplies it in development).
    :raise ConfigError: a required setting is missing; the message says which and how to fix it."""
    if settings["APP_ENV"] == "production":
        return check_production(settings)
    missing = [name for name in REQUIRED if not settings.get(name)]
    if missing:
        raise ConfigError(
            f"no {', '.join(missing)}: set them in the environment or .env, or start the service "
            "with `make run` (it starts an embedded database and a Stripe stand-in when they are unset)"
        )
    return settings


def check_production(settings):
    """:raise ConfigError: a required setting is missing, or the JWT secret is short enough to guess."""
    problems = []
    missing = [name for name in PRODUCTION_REQUIRED if not settings.get(name)]
    if missing:
        problems.append(f"needs {', '.join(missing)}: set them in the environment or .env")
    secret = settings.get("JWT_SECRET_KEY") or ""
    if secret and len(secret) < MIN_JWT_SECRET_LENGTH:
        problems.append(
            f"needs a JWT_SECRET_KEY of at least {MIN_JWT_SECRET_LENGTH} characters (this one has {len(secret)}): "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))' makes one"
        )
    if problems:
        raise ConfigError(f"APP_ENV=production {'; and '.join(problems)}")
    return settings
