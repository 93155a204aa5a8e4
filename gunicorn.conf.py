"""gunicorn settings: `make serve`, and production (`gunicorn -c gunicorn.conf.py wsgi:app`).

Threaded workers, so one slow Stripe call does not stall the rest of a worker's requests.
No `preload_app`: a pymongo client must not cross a fork, so each worker makes its own.
"""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 60  # longer than a Stripe call with its retries
graceful_timeout = 30  # requests in flight finish on SIGTERM
keepalive = 5
accesslog = None  # the app writes the access line, with the request id (ticket_api/requestlog.py)
errorlog = "-"
preload_app = False
