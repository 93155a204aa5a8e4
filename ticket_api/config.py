"""Every setting of the service, read once from the environment (and `.env`).

README.md has the table of what each one means; `.env.example` is a commented copy.
"""

import os
import secrets
from pathlib import Path

from dotenv import load_dotenv

load_dotenv()

PRODUCTION_REQUIRED = ("JWT_SECRET_KEY", "MONGODB_URI", "STRIPE_SECRET_KEY")
EMBEDDED_URI_FILE = "mongodb.uri"
STANDIN_URL_FILE = "stripe.url"
JWT_SECRET_FILE = "jwt-secret"
WEBHOOK_SECRET_FILE = "stripe-webhook-secret"
STANDIN_SECRET_KEY = "sk_test_standin"  # the stand-in takes any key that starts with sk_


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
        self.RATELIMIT_LOGIN_EMAIL = env("RATELIMIT_LOGIN_EMAIL", "10 per minute")
        self.RATELIMIT_SIGNUP = env("RATELIMIT_SIGNUP", "10 per minute")
        self.DEFAULT_CURRENCY = env("DEFAULT_CURRENCY", "usd").lower()
        self.TRUST_PROXY = int(env("TRUST_PROXY", "0"))
        self.FORWARDED_ALLOW_IPS = [ip.strip() for ip in env("FORWARDED_ALLOW_IPS", "127.0.0.1,::1").split(",")]
        self.MAX_CONTENT_LENGTH = int(env("MAX_CONTENT_LENGTH", str(1024 * 1024)))

    def as_dict(self):
        return {key: value for key, value in vars(self).items() if key.isupper()}


def finalize(settings):
    """Fill in what development can derive, and refuse what production must not guess.

    :raise ConfigError: production without its required settings, or no database to use.
    """
    if settings["APP_ENV"] == "production":
        missing = [name for name in PRODUCTION_REQUIRED if not settings.get(name)]
        if missing:
            raise ConfigError(
                f"APP_ENV=production needs {', '.join(missing)}: set them in the environment or .env"
            )
        return settings
    data_dir = Path(settings["DATA_DIR"])
    if not settings.get("MONGODB_URI"):
        settings["MONGODB_URI"] = running_embedded_uri(data_dir)
    if not settings.get("JWT_SECRET_KEY"):
        settings["JWT_SECRET_KEY"] = kept_secret(data_dir / JWT_SECRET_FILE)
    if not settings.get("STRIPE_SECRET_KEY"):
        use_stripe_standin(settings, data_dir)
    return settings


def use_stripe_standin(settings, data_dir):
    """Point the Stripe SDK at the stand-in that `make run` started (its URL is in DATA_DIR).

    With none running, payments answer 502 until one is: nothing else needs Stripe.
    """
    settings["STRIPE_SECRET_KEY"] = STANDIN_SECRET_KEY
    url_file = data_dir / STANDIN_URL_FILE
    if not settings.get("STRIPE_API_BASE") and url_file.is_file():
        settings["STRIPE_API_BASE"] = url_file.read_text().strip()
    if not settings.get("STRIPE_WEBHOOK_SECRET"):
        settings["STRIPE_WEBHOOK_SECRET"] = kept_secret(data_dir / WEBHOOK_SECRET_FILE, prefix="whsec_")


def running_embedded_uri(data_dir):
    """The URI that `make run` wrote for its embedded database.

    :raise ConfigError: when no embedded database was started on this DATA_DIR.
    """
    uri_file = Path(data_dir) / EMBEDDED_URI_FILE
    if not uri_file.is_file():
        raise ConfigError(
            "no database: set MONGODB_URI, or start the embedded one with `make run` "
            f"(it writes {uri_file})"
        )
    return uri_file.read_text().strip()


def kept_secret(secret_file, prefix=""):
    """A secret generated on first use and kept in a file, so it survives restarts."""
    secret_file = Path(secret_file)
    if not secret_file.is_file():
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        draft = secret_file.with_name(f"{secret_file.name}.{os.getpid()}")
        draft.touch(mode=0o600)
        draft.write_text(prefix + secrets.token_urlsafe(48))
        try:  # link, not rename: when two workers race, the first secret stays for both
            os.link(draft, secret_file)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return secret_file.read_text().strip()
