"""Request ids and one access line per request.

Each request gets an id, taken from `X-Request-ID` when nginx sends one (and it looks
like an id), else generated; it is echoed in the response header and stamped on every
log line written while the request runs. Only the client's address (as forwarded by a
trusted proxy), method, path (no query string), status and duration are logged: never a
body, a header, a token or card data. This is the only access line: gunicorn's own is off.
"""

import logging
import re
import time
import uuid

from flask import g, has_request_context, request

ACCESS = logging.getLogger("ticket_api.access")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
LOG_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


class RequestIdFilter(logging.Filter):
    """Give every record the id of the request it was written in ("-" outside one)."""

    def filter(self, record):
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def configure_logging():
    """Log to stderr with request ids (once per process, whatever the number of apps)."""
    root = logging.getLogger()
    if any(isinstance(f, RequestIdFilter) for handler in root.handlers for f in handler.filters):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("stripe").setLevel(logging.WARNING)  # a line per API call: noise


def init_app(app):
    @app.before_request
    def start_request():
        sent = request.headers.get("X-Request-ID", "")
        g.request_id = sent if REQUEST_ID.match(sent) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def finish_request(response):
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Request-ID"] = request_id
        elapsed_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        ACCESS.info("%s %s %s %s %.1fms", request.remote_addr, request.method, request.path, response.status_code,
                    elapsed_ms)
        return response
