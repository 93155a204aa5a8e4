"""Development and tests only: run the embedded stand-ins as child processes.

When `MONGODB_URI` is unset, SecantusDB (a MongoDB wire-protocol server) is started on
loopback with its files in `DATA_DIR`, and its URI is written to `DATA_DIR/mongodb.uri`
so that other commands (`make admin`) connect to it instead of opening its files twice.
When `STRIPE_SECRET_KEY` is unset, `run` also starts the Stripe stand-in
(`stripe_standin.py`, its store in `DATA_DIR`) and registers our webhook endpoint on it.

    python -m ticket_api.embedded run           # the stand-ins, then the API (make run)
    python -m ticket_api.embedded serve         # the same under gunicorn (make serve)
    python -m ticket_api.embedded exec CMD ...  # the stand-ins (or the running ones), then CMD
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from .config import EMBEDDED_URI_FILE, STANDIN_URL_FILE, WEBHOOK_SECRET_FILE, Config, env, kept_secret

DEFAULT_DB_PORT = 27018
DEFAULT_STRIPE_PORT = 12111
WEBHOOK_EVENTS = ["payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded"]
READY_TIMEOUT_SECONDS = 20


class EmbeddedError(RuntimeError):
    """A stand-in could not start; the message is one line a person can act on."""


def free_port(host="127.0.0.1"):
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_is_free(host, port):
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def answers(uri, timeout_ms=500):
    client = MongoClient(uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms)
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


class ChildServer:
    """A stand-in server in a child process on loopback; `port=0` picks a free port."""

    name = "server"

    def __init__(self, port=0, host="127.0.0.1", log_file=None):
        self.host = host
        self.port = port or free_port(host)
        self.log_file = log_file
        self.process = None

    def command(self):
        raise NotImplementedError

    def answers(self):
        raise NotImplementedError

    def start(self):
        """Start the server and wait until it answers.

        :raise EmbeddedError: the port is taken, or the server exited or never answered.
        """
        if not port_is_free(self.host, self.port):
            raise EmbeddedError(
                f"the embedded {self.name} cannot start: port {self.port} on {self.host} is taken "
                f"({self.port_advice})"
            )
        with open(self.log_file or os.devnull, "ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedError(
                    f"the embedded {self.name} exited at start (code {self.process.returncode}); "
                    f"see {self.log_file or 'its output'}"
                )
            if self.answers():
                return self
            time.sleep(0.1)
        self.stop()
        raise EmbeddedError(f"the embedded {self.name} did not answer within {READY_TIMEOUT_SECONDS} s")

    def stop(self):
        """Stop the server the way it likes (SIGTERM: it saves what it holds)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class EmbeddedDatabase(ChildServer):
    """SecantusDB; `storage` is a directory (kept across runs) or ":memory:"."""

    name = "database"
    port_advice = "set EMBEDDED_DB_PORT to another port, or MONGODB_URI to use a running MongoDB"

    def __init__(self, storage, test_commands=False, **kwargs):
        super().__init__(**kwargs)
        self.storage = str(storage)
        self.test_commands = test_commands

    @property
    def uri(self):
        return f"mongodb://{self.host}:{self.port}/?retryWrites=false"

    def command(self):
        executable = shutil.which("secantusd-py", path=str(Path(sys.executable).parent))
        args = [executable or "secantusd-py", "--host", self.host, "--port", str(self.port)]
        args += ["--storage-path", self.storage, "--log-level", "WARNING"]
        if self.storage != ":memory:":
            Path(self.storage).mkdir(parents=True, exist_ok=True)
            args.append("--sync-on-commit")  # a killed laptop loses no sale
        if self.test_commands:
            args.append("--enable-test-commands")
        return args

    def answers(self):
        return answers(self.uri, timeout_ms=200)


class EmbeddedStripe(ChildServer):
    """localstripe through our launcher (`stripe_standin.py`); `store` None keeps it in memory."""

    name = "Stripe stand-in"
    port_advice = "set EMBEDDED_STRIPE_PORT to another port, or STRIPE_SECRET_KEY to use Stripe"

    def __init__(self, store=None, **kwargs):
        super().__init__(**kwargs)
        self.store = store

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def command(self):
        args = [sys.executable, "-m", "ticket_api.stripe_standin", "--port", str(self.port)]
        return args + (["--store", str(self.store)] if self.store else [])

    def answers(self):
        with socket.socket() as sock:
            sock.settimeout(0.2)
            return sock.connect_ex((self.host, self.port)) == 0

    def register_webhook(self, url, secret):
        """Have the stand-in sign and send its events to `url`, as a Stripe webhook endpoint does."""
        body = json.dumps({"url": url, "secret": secret, "events": WEBHOOK_EVENTS}).encode()
        request = urllib.request.Request(
            f"{self.url}/_config/webhooks/ticket_api", data=body,
            headers={"Content-Type": "application/json"}, method="POST",
        )
        with urllib.request.urlopen(request, timeout=5):
            pass


@contextmanager
def database_for(settings):
    """Yield the URI of the database to use, starting the embedded one when needed.

    An embedded database already running on this DATA_DIR (another `make run`) is
    reused, not started twice: its files cannot be opened by two servers.
    """
    if settings.MONGODB_URI:
        yield settings.MONGODB_URI
        return
    uri_file = settings.DATA_DIR / EMBEDDED_URI_FILE
    if uri_file.is_file() and answers(uri_file.read_text().strip()):
        yield uri_file.read_text().strip()
        return
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    database = EmbeddedDatabase(
        settings.DATA_DIR / "db",
        port=int(env("EMBEDDED_DB_PORT", DEFAULT_DB_PORT)),
        log_file=settings.DATA_DIR / "secantusdb.log",
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
    standin = EmbeddedStripe(
        store=settings.DATA_DIR / "localstripe.pickle",
        port=int(env("EMBEDDED_STRIPE_PORT", DEFAULT_STRIPE_PORT)),
        log_file=settings.DATA_DIR / "localstripe.log",
    )
    standin.start()
    url_file = settings.DATA_DIR / STANDIN_URL_FILE
    url_file.write_text(standin.url)
    try:
        secret = kept_secret(settings.DATA_DIR / WEBHOOK_SECRET_FILE, prefix="whsec_")
        standin.register_webhook(webhook_url, secret)
        print(f"ticket_api: Stripe stand-in at {standin.url}, webhooks to {webhook_url}", flush=True)
        yield {"STRIPE_API_BASE": standin.url, "STRIPE_WEBHOOK_SECRET": secret}
    finally:
        url_file.unlink(missing_ok=True)
        standin.stop()


def run_child(args, extra_env):
    """Run a command to its end. Ctrl-C reaches it directly (same process group); a
    SIGTERM to us is passed on to it, so no child outlives this launcher."""
    child = subprocess.Popen(args, env={**os.environ, **extra_env})
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
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    settings = Config()
    if settings.APP_ENV == "production":
        sys.exit("ticket_api: APP_ENV=production never starts the embedded stand-ins")
    try:
        with database_for(settings) as uri:
            if argv[0] == "exec":
                return run_child(argv[1:], {"MONGODB_URI": uri})
            host, port = env("HOST", "127.0.0.1"), env("PORT", "5000")
            with stripe_for(settings, f"http://{host}:{port}/payment/webhook") as stripe_env:
                server = SERVERS[argv[0]](host, port)
                return run_child([sys.executable, *server], {"MONGODB_URI": uri, **stripe_env})
    except EmbeddedError as error:
        sys.exit(f"ticket_api: {error}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
