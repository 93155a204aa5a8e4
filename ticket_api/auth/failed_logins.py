"""Failed logins, limited per email and address and per email (docs/design.md, "Failed logins")."""

import math
from dataclasses import dataclass
from datetime import timedelta

import limits
from flask import current_app

from ..errors import ApiError
from ..stores import login_attempts


class TooManyFailedLogins(ApiError):
    status_code, code = 429, "rate_limited"

    def __init__(self, limit, retry_after):
        super().__init__(f"Too many requests ({limit}); try again later")
        self.retry_after = retry_after

    def headers(self):
        return {"Retry-After": str(max(1, math.ceil(self.retry_after.total_seconds())))}


@dataclass(frozen=True)
class Attempt:
    """One login attempt, as counted against each of its limits."""

    counted: tuple[tuple[str, object], ...] = ()

    def forget(self):
        """The login succeeded: it counts against none of its limits."""
        for key, attempt_id in self.counted:
            login_attempts.forget_login_attempt(key, attempt_id)


def count(email, address, *, now):
    """Count a login for `email` from `address` against its limits.
    :raise TooManyFailedLogins: one is reached (then none counts it)."""
    config = current_app.config
    if not config["RATELIMIT_ENABLED"]:
        return Attempt()
    limited = [(f"{email} from {address}", config["RATELIMIT_LOGIN_EMAIL"]),
               (email, config["RATELIMIT_LOGIN_EMAIL_ANY_ADDRESS"])]
    counted = []
    for key, setting in limited:
        for limit in limits.parse_many(setting):
            limit_key = f"{key} {limit.amount}/{limit.get_expiry()}s"
            window = timedelta(seconds=limit.get_expiry())
            attempt_id = login_attempts.count_login_attempt(limit_key, limit=limit.amount, window=window, now=now)
            if attempt_id is None:
                Attempt(tuple(counted)).forget()
                free_at = login_attempts.login_attempts_free_at(limit_key, limit=limit.amount, window=window)
                raise TooManyFailedLogins(limit, (free_at or now + window) - now)
            counted.append((limit_key, attempt_id))
    return Attempt(tuple(counted))
