"""`Idempotency-Key`: the same key from the same user replays the first reply (docs/design.md, "Idempotency keys")."""

import hashlib
import json
from datetime import timedelta
from functools import wraps

from flask import request
from flask_jwt_extended import get_jwt_identity
from werkzeug.exceptions import HTTPException

from ..db import utcnow
from ..errors import ApiError, http_error_response
from ..stores import idempotency_keys

KEEP_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class KeyInUse(ApiError):
    status_code, message, code = 409, "A request with this Idempotency-Key is still running", "idempotency_key_in_use"


class KeyReused(ApiError):
    status_code, message, code = 400, "This Idempotency-Key was used for a different request", \
        "idempotency_key_reused"


class KeyTooLong(ApiError):
    status_code, message, code = 400, f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters", "invalid_data"


def idempotent(view):
    """Run the view once per (user, Idempotency-Key); replay its reply after that."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if not key:
            return view(*args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise KeyTooLong()
        key_id = {"user": get_jwt_identity(), "key": key}
        replay = start(key_id, fingerprint())
        if replay is not None:
            return replay
        try:
            response = view(*args, **kwargs)
        except ApiError as error:
            finish(key_id, error.status_code, error.body())
            raise
        except HTTPException as error:
            body, status, _ = http_error_response(error)
            finish(key_id, status, body)
            raise
        except Exception:
            idempotency_keys.drop_key(key_id)
            raise
        finish(key_id, response.status_code, response.get_json())
        return response

    return wrapper


def fingerprint():
    body = request.get_json(silent=True)
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def start(key_id, request_fingerprint):
    """Claim the key, or return the reply to replay.
    :raise KeyInUse: its first request still runs. :raise KeyReused: it came with another body."""
    stored = idempotency_keys.claim_key(key_id, request_fingerprint, now=utcnow(), keep_for=KEEP_FOR)
    if stored is None:
        return None
    if stored["fingerprint"] != request_fingerprint:
        raise KeyReused()
    if "status" not in stored:
        raise KeyInUse()
    return stored["body"], stored["status"], {"Idempotent-Replayed": "true"}


def finish(key_id, status, body):
    if status >= 500:
        idempotency_keys.drop_key(key_id)
    else:
        idempotency_keys.keep_reply(key_id, status, body)
