"""gunicorn settings: `make serve`, and production (`gunicorn -c gunicorn.conf.py wsgi:app`).

Threaded workers, so one slow Stripe call does not stall the rest of a worker's requests.
No `preload_app`: a pymongo client must not cross a fork, so each worker makes its own.

The settings are checked here, when the master reads this file, the way the app checks
them: a bad one stops the master at once with one line and exit code 1, rather than
workers failing to boot and being restarted in a loop. `python gunicorn.conf.py` runs
only that check (the systemd unit's `ExecStartPre`): gunicorn itself reads
`WEB_CONCURRENCY` when it is imported, before this file, and a word there is its traceback.
"""

import errno
import os
import socket
import sys

from ticket_api.config import Config, ConfigError, check

try:
    settings = check(Config().as_dict())
except ConfigError as error:
    sys.exit(f"ticket_api cannot start: {error}")

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = settings["WEB_CONCURRENCY"]
worker_class = "gthread"
threads = settings["GUNICORN_THREADS"]
timeout = 60  # longer than a Stripe call with its retries
graceful_timeout = 30  # requests in flight finish on SIGTERM
keepalive = 5
accesslog = None  # the app writes the access line, with the request id (ticket_api/requestlog.py)
errorlog = "-"
preload_app = False
# Each worker listens on its own socket and the kernel spreads connections across them;
# with one shared socket, one worker could accept every connection of a burst (or all
# of nginx's kept-alive ones) while the other sat idle: measured, half the throughput.
reuse_port = True


def on_starting(server):
    """Refuse a port someone listens on: with `reuse_port`, a second gunicorn would bind it
    as well and silently share the traffic with the first.

    The probe sets SO_REUSEADDR (as gunicorn's own sockets do) and not SO_REUSEPORT: its
    bind then fails only on a listening socket, never on the TIME-WAIT connections a
    gunicorn just stopped leaves behind, so a restart binds the port again at once."""
    for address in server.cfg.address:
        if isinstance(address, tuple):
            with socket.socket(socket.AF_INET6 if ":" in address[0] else socket.AF_INET) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind(address)
                except OSError as error:
                    if error.errno == errno.EADDRINUSE:
                        raise SystemExit(f"ticket_api: {address[0]}:{address[1]} is already in use") from error
                    raise
    # gunicorn's own "Listening at" line is empty here: its master holds no socket.
    listening = [f"{a[0]}:{a[1]}" if isinstance(a, tuple) else str(a) for a in server.cfg.address]
    server.log.info("Workers will listen at %s", ", ".join(listening))
