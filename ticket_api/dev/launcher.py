"""Development only: run a command with the embedded stand-ins it needs.

The app only reads its settings (`config.py`); this fills in, in the environment of
the command it runs, those development can supply:

- `MONGODB_URI` unset: the embedded database is started with its files in `DATA_DIR`,
  and its URI is written to `DATA_DIR/mongodb.uri` so that other commands (`make admin`)
  connect to it instead of opening its files twice.
- `STRIPE_SECRET_KEY` unset: `run` and `serve` also start the Stripe stand-in (its store
  in `DATA_DIR`) and register our webhook endpoint on it; `exec` points at the one a
  running `make run` started, if any.
- `JWT_SECRET_KEY` unset: one generated on first use and kept in `DATA_DIR`.

Nothing it starts outlives it: Ctrl-C, SIGTERM and SIGHUP (the terminal closed) stop its
children in order; after a SIGKILL, Linux sends each a SIGTERM (`embedded.py`). Their pids
are kept in `DATA_DIR`, and a stand-in left by a run that ended otherwise is stopped at the
next start rather than blocking its port.

    python -m ticket_api.dev.launcher run           # the stand-ins, then the API (make run)
    python -m ticket_api.dev.launcher serve         # the same under gunicorn (make serve)
    python -m ticket_api.dev.launcher exec CMD ...  # the database (or the running one), then CMD
"""

import os
import secrets
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from ..config import Config, ConfigError, env
from .embedded import (
    DEFAULT_DB_PORT,
    DEFAULT_STRIPE_PORT,
    EmbeddedDatabase,
    EmbeddedError,
    EmbeddedStripe,
    PortTaken,
    database_answers,
    dies_with_this_process,
    embedded_database_storage,
    stop_leftover,
)

EMBEDDED_URI_FILE = "mongodb.uri"
STANDIN_URL_FILE = "stripe.url"
DATABASE_PID_FILE = "secantusdb.pid"
STANDIN_PID_FILE = "localstripe.pid"
JWT_SECRET_FILE = "jwt-secret"
WEBHOOK_SECRET_FILE = "stripe-webhook-secret"
STANDIN_SECRET_KEY = "sk_test_standin"  # the stand-in takes any key that starts with sk_


def kept_secret(secret_file, prefix=""):
    """A secret generated on first use and kept in a file, so it survives restarts."""
    secret_file = Path(secret_file)
    if not secret_file.is_file():
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        draft = secret_file.with_name(f"{secret_file.name}.{os.getpid()}")
        draft.touch(mode=0o600)
        draft.write_text(prefix + secrets.token_urlsafe(48))
        try:  # link, not rename: when two launchers race, the first secret stays for both
            os.link(draft, secret_file)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return secret_file.read_text().strip()


def jwt_secret_env(settings):
    if settings.JWT_SECRET_KEY:
        return {}
    return {"JWT_SECRET_KEY": kept_secret(settings.DATA_DIR / JWT_SECRET_FILE)}


def left_behind(pid_file, marker, name):
    """Stop the child an earlier run on this DATA_DIR left running, if its run is gone."""
    pid = stop_leftover(pid_file, marker)
    if pid:
        print(f"ticket_api: stopped the {name} an earlier run left running (pid {pid})", flush=True)


def taken_port_advice(settings, error):
    """For a one-off command (`make admin`): the database port is taken, most likely by a
    `make run` on another DATA_DIR. Starting one here on another port would open an empty
    database, so say which DATA_DIR to use instead."""
    storage = embedded_database_storage(error.port)
    if storage and Path(storage).name == "db":
        return (
            f"port {error.port} is taken by the embedded database of `make run` with "
            f"DATA_DIR={Path(storage).parent}: run this with that DATA_DIR (this one is {settings.DATA_DIR})"
        )
    return (
        f"port {error.port} on {error.host} is taken and no `make run` serves DATA_DIR={settings.DATA_DIR}: "
        "run this with the same DATA_DIR as `make run`, or start `make run` with this DATA_DIR"
    )


@contextmanager
def database_for(settings):
    """Yield the URI of the database to use, starting the embedded one when needed.

    An embedded database already running on this DATA_DIR (another `make run`) is
    reused, not started twice: its files cannot be opened by two servers.
    """
    if settings.MONGODB_URI:
        yield settings.MONGODB_URI
        return
    storage = settings.DATA_DIR / "db"
    left_behind(settings.DATA_DIR / DATABASE_PID_FILE, str(storage), "embedded database")
    uri_file = settings.DATA_DIR / EMBEDDED_URI_FILE
    running = uri_file.read_text().strip() if uri_file.is_file() else None
    if running and database_answers(running):
        yield running
        return
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    database = EmbeddedDatabase(
        storage,
        port=int(env("EMBEDDED_DB_PORT", DEFAULT_DB_PORT)),
        log_file=settings.DATA_DIR / "secantusdb.log",
        pid_file=settings.DATA_DIR / DATABASE_PID_FILE,
    )
    database.start()
    uri_file.write_text(database.uri)
    print(f"ticket_api: embedded database at {database.uri} (files in {database.storage})", flush=True)
    try:
        yield database.uri
    finally:
        uri_file.unlink(missing_ok=True)
        database.stop()


@contextmanager
def stripe_for(settings, webhook_url):
    """Yield the environment that points the app at Stripe: nothing when a key is set,
    else a stand-in started here, with our webhook endpoint registered on it."""
    if settings.STRIPE_SECRET_KEY:
        yield {}
        return
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    store = settings.DATA_DIR / "localstripe.pickle"
    left_behind(settings.DATA_DIR / STANDIN_PID_FILE, str(store), "Stripe stand-in")
    standin = EmbeddedStripe(
        store=store,
        port=int(env("EMBEDDED_STRIPE_PORT", DEFAULT_STRIPE_PORT)),
        log_file=settings.DATA_DIR / "localstripe.log",
        pid_file=settings.DATA_DIR / STANDIN_PID_FILE,
    )
    standin.start()
    url_file = settings.DATA_DIR / STANDIN_URL_FILE
    url_file.write_text(standin.url)
    try:
        secret = kept_secret(settings.DATA_DIR / WEBHOOK_SECRET_FILE, prefix="whsec_")
        standin.register_webhook(webhook_url, secret)
        print(f"ticket_api: Stripe stand-in at {standin.url}, webhooks to {webhook_url}", flush=True)
        yield {"STRIPE_SECRET_KEY": STANDIN_SECRET_KEY, "STRIPE_API_BASE": standin.url, "STRIPE_WEBHOOK_SECRET": secret}
    finally:
        url_file.unlink(missing_ok=True)
        standin.stop()


def running_stripe_env(settings):
    """For a one-off command: the stand-in a running `make run` started (its URL is in
    DATA_DIR), for what the environment does not set. With none running, payments answer
    502 until one is: nothing else needs Stripe."""
    if settings.STRIPE_SECRET_KEY:
        return {}
    stripe_env = {"STRIPE_SECRET_KEY": STANDIN_SECRET_KEY}
    if not settings.STRIPE_WEBHOOK_SECRET:
        stripe_env["STRIPE_WEBHOOK_SECRET"] = kept_secret(settings.DATA_DIR / WEBHOOK_SECRET_FILE, prefix="whsec_")
    url_file = settings.DATA_DIR / STANDIN_URL_FILE
    if not settings.STRIPE_API_BASE and url_file.is_file():
        stripe_env["STRIPE_API_BASE"] = url_file.read_text().strip()
    return stripe_env


def run_child(args, extra_env):
    """Run a command to its end. Ctrl-C and a closed terminal's SIGHUP reach it directly
    (same process group); a SIGTERM or SIGHUP to us is passed on to it, and our death to
    it by Linux, so no child outlives this launcher."""
    child = subprocess.Popen(args, env={**os.environ, **extra_env}, preexec_fn=dies_with_this_process())
    try:
        return child.wait()
    except KeyboardInterrupt:
        return child.wait()
    finally:
        if child.poll() is None:
            child.terminate()
            child.wait()


SERVERS = {
    "run": lambda host, port: ["-m", "flask", "--app", "wsgi", "run", "--host", host, "--port", port],
    "serve": lambda host, port: ["-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"{host}:{port}", "wsgi:app"],
}


def main(argv):
    if not argv or argv[0] not in ("run", "serve", "exec") or (argv[0] == "exec" and len(argv) < 2):
        sys.exit(__doc__)
    for signum in (signal.SIGTERM, signal.SIGHUP):  # stop the children in order, then exit
        signal.signal(signum, lambda signum, frame: sys.exit(128 + signum))
    try:
        settings = Config()
    except ConfigError as error:
        sys.exit(f"ticket_api cannot start: {error}")
    if settings.APP_ENV == "production":
        sys.exit("ticket_api: APP_ENV=production never starts the embedded stand-ins")
    try:
        with database_for(settings) as uri:
            app_env = {"MONGODB_URI": uri, **jwt_secret_env(settings)}
            if argv[0] == "exec":
                return run_child(argv[1:], {**app_env, **running_stripe_env(settings)})
            host, port = env("HOST", "127.0.0.1"), env("PORT", "5000")
            with stripe_for(settings, f"http://{host}:{port}/payment/webhook") as stripe_env:
                server = SERVERS[argv[0]](host, port)
                return run_child([sys.executable, *server], {**app_env, **stripe_env})
    except PortTaken as error:
        sys.exit(f"ticket_api: {taken_port_advice(settings, error) if argv[0] == 'exec' else error}")
    except EmbeddedError as error:
        sys.exit(f"ticket_api: {error}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
