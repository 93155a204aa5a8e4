"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi <command>`."""

import sys

from ticket_api import create_app
from ticket_api.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"ticket_api cannot start: {error}")
