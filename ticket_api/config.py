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
JWT_SECRET_FILE = "jwt-secret"


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
        self.RATELIMIT_ENABLED = as_bool(env("RATELIMIT_ENABLED", "true"))
        self.RATELIMIT_LOGIN = env("RATELIMIT_LOGIN", "20 per minute")
        self.RATELIMIT_LOGIN_EMAIL = env("RATELIMIT_LOGIN_EMAIL", "10 per minute")
        self.RATELIMIT_SIGNUP = env("RATELIMIT_SIGNUP", "10 per minute")
        self.DEFAULT_CURRENCY = env("DEFAULT_CURRENCY", "usd").lower()
        self.TRUST_PROXY = int(env("TRUST_PROXY", "0"))
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
        settings["JWT_SECRET_KEY"] = development_jwt_secret(data_dir)
    return settings


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


def development_jwt_secret(data_dir):
    """A signing key generated on first use and kept in DATA_DIR, so tokens survive restarts."""
    secret_file = Path(data_dir) / JWT_SECRET_FILE
    if not secret_file.is_file():
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        draft = secret_file.with_name(f"{JWT_SECRET_FILE}.{os.getpid()}")
        draft.touch(mode=0o600)
        draft.write_text(secrets.token_urlsafe(48))
        try:  # link, not rename: when two workers race, the first key stays for both
            os.link(draft, secret_file)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return secret_file.read_text().strip()
