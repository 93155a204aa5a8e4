"""Request ids and one escaped access line per request (docs/design.md, "The request log")."""

import logging
import re
import time
import uuid

from flask import current_app, g, has_request_context, request

ACCESS = logging.getLogger("ticket_api.access")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
LOG_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"

# Backslash, C0 and C1 controls, DEL and the Unicode line separators, written as escapes.
ESCAPES = {
    **{code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))},
    **{ord("\\"): "\\\\", ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t",
       0x2028: "\\u2028", 0x2029: "\\u2029"},
}
WITHOUT_LINE_BREAKS = {code: escaped for code, escaped in ESCAPES.items() if code != ord("\n")}


def escape(text):
    """`text` on one line, control characters (and `\\`) written as Python escapes."""
    return text.translate(ESCAPES)


class EscapingFormatter(logging.Formatter):
    """Every record on one line, its values escaped; a traceback indented on the lines after it."""

    def format(self, record):
        """`logging.Formatter.format`, escaping; never reusing a traceback cached on the record unescaped."""
        message = record.getMessage()
        if getattr(record, "several_lines", False):
            record.message = "\n  ".join(escape(line) for line in message.split("\n"))
        else:
            record.message = escape(message)
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        text = self.formatMessage(record)
        if record.exc_info:
            text += "\n" + indented(self.formatException(record.exc_info))
        elif record.exc_text:
            text += "\n" + indented(record.exc_text)
        if record.stack_info:
            text += "\n" + indented(self.formatStack(record.stack_info))
        return text


def indented(text):
    return "\n".join("  " + line for line in text.translate(WITHOUT_LINE_BREAKS).split("\n"))


class DevServerLines(logging.Filter):
    """On werkzeug's logger: drop its request lines (they hold the query string); uncolour the rest."""

    REQUEST_LINE = '"%s" %s %s'  # werkzeug.serving.WSGIRequestHandler.log_request's format
    COLOURS = re.compile(r"\x1b\[[0-9;]*m")

    def filter(self, record):
        if not isinstance(record.msg, str):
            return True
        if record.msg.endswith(self.REQUEST_LINE):
            return False
        if not record.args:
            record.msg = self.COLOURS.sub("", record.msg)
            record.several_lines = True
        return True


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
    handler.setFormatter(EscapingFormatter(LOG_FORMAT))
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("werkzeug").addFilter(DevServerLines())
    logging.getLogger("stripe").setLevel(logging.WARNING)  # a line per API call: noise


def init_app(app):
    @app.before_request
    def start_request():
        sent = request.headers.get("X-Request-ID", "") if current_app.config["TRUST_PROXY"] else ""
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
