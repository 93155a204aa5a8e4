"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi <command>`."""

import sys

from ticket_api import create_app
from ticket_api.config import ConfigError

# gunicorn halts its master when a worker exits with this code before it booted; any other
# code has the worker restarted, over and over, with the same bad settings.
WORKER_BOOT_ERROR = 3

try:
    app = create_app()
except ConfigError as error:
    print(f"ticket_api cannot start: {error}", file=sys.stderr, flush=True)
    sys.exit(WORKER_BOOT_ERROR if "gunicorn.arbiter" in sys.modules else 1)
