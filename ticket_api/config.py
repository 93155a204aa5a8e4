"""Every setting of the service, read once from the environment (and `.env`).

README.md has the table of what each one means; `.env.example` is a commented copy.
"""

import os
from pathlib import Path

from dotenv import load_dotenv

load_dotenv()

REQUIRED = ("JWT_SECRET_KEY", "MONGODB_URI", "STRIPE_SECRET_KEY")


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and what to do."""


def as_bool(value):
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def env(name, default=None):
    value = os.environ.get(name, "").strip()
    return value if value else default


class Config:
    """Settings for one app, from the environment at the time it is built."""

    def __init__(self):
        self.APP_ENV = env("APP_ENV", "development")
        self.DATA_DIR = Path(env("DATA_DIR", "instance"))
        self.MONGODB_URI = env("MONGODB_URI")
        self.MONGODB_DB = env("MONGODB_DB", "ticket_api")
        self.MONGODB_TIMEOUT_MS = int(env("MONGODB_TIMEOUT_MS", "5000"))
        self.JWT_SECRET_KEY = env("JWT_SECRET_KEY")
        self.JWT_ACCESS_TOKEN_EXPIRES = int(env("JWT_ACCESS_TOKEN_EXPIRES", "3600"))
        self.BCRYPT_ROUNDS = int(env("BCRYPT_ROUNDS", "12"))
        self.STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY")
        self.STRIPE_API_BASE = env("STRIPE_API_BASE")
        self.STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET")
        self.CORS_ORIGINS = [
            origin.strip()
            for origin in env("CORS_ORIGINS", "http://localhost:3000,http://localhost:5173").split(",")
            if origin.strip()
        ]
        self.HOLD_MINUTES = int(env("HOLD_MINUTES", "15"))
        self.STRIPE_TIMEOUT_SECONDS = float(env("STRIPE_TIMEOUT_SECONDS", "10"))
        self.STRIPE_MAX_RETRIES = int(env("STRIPE_MAX_RETRIES", "2"))
        self.RATELIMIT_ENABLED = as_bool(env("RATELIMIT_ENABLED", "true"))
        self.RATELIMIT_LOGIN = env("RATELIMIT_LOGIN", "20 per minute")
        self.RATELIMIT_LOGIN_EMAIL = env("RATELIMIT_LOGIN_EMAIL", "10 per minute;20 per hour")
        self.RATELIMIT_LOGIN_EMAIL_ANY_ADDRESS = env("RATELIMIT_LOGIN_EMAIL_ANY_ADDRESS", "100 per hour")
        self.RATELIMIT_SIGNUP = env("RATELIMIT_SIGNUP", "10 per minute")
        self.DEFAULT_CURRENCY = env("DEFAULT_CURRENCY", "usd").lower()
        self.TRUST_PROXY = int(env("TRUST_PROXY", "0"))
        self.FORWARDED_ALLOW_IPS = [ip.strip() for ip in env("FORWARDED_ALLOW_IPS", "127.0.0.1,::1").split(",")]
        self.MAX_CONTENT_LENGTH = int(env("MAX_CONTENT_LENGTH", str(1024 * 1024)))

    def as_dict(self):
        return {key: value for key, value in vars(self).items() if key.isupper()}


def check(settings):
    """Refuse to start without what the service cannot guess.

    In development `make run` (the launcher in `ticket_api/dev/`) supplies all three,
    starting the embedded stand-ins when needed; production must set them.

    :raise ConfigError: a required setting is missing; the message says which and how to fix it.
    """
    missing = [name for name in REQUIRED if not settings.get(name)]
    if missing and settings["APP_ENV"] == "production":
        raise ConfigError(f"APP_ENV=production needs {', '.join(missing)}: set them in the environment or .env")
    if missing:
        raise ConfigError(
            f"no {', '.join(missing)}: set them in the environment or .env, or start the service "
            "with `make run` (it starts an embedded database and a Stripe stand-in when they are unset)"
        )
    return settings
