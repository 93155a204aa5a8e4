"""Development and tests only: run the embedded stand-ins as child processes.

When `MONGODB_URI` is unset, SecantusDB (a MongoDB wire-protocol server) is started on
loopback with its files in `DATA_DIR`, and its URI is written to `DATA_DIR/mongodb.uri`
so that other commands (`make admin`) connect to it instead of opening its files twice.

    python -m ticket_api.embedded run           # the stand-ins, then the API (make run)
    python -m ticket_api.embedded exec CMD ...  # the stand-ins (or the running ones), then CMD
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from .config import EMBEDDED_URI_FILE, Config, env

DEFAULT_DB_PORT = 27018
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


class EmbeddedDatabase:
    """A SecantusDB server in a child process, on loopback.

    `storage` is a directory (kept across runs) or ":memory:"; `port=0` picks a free one.
    """

    def __init__(self, storage, port=0, host="127.0.0.1", log_file=None, test_commands=False):
        self.storage = str(storage)
        self.host = host
        self.port = port or free_port(host)
        self.log_file = log_file
        self.test_commands = test_commands
        self.process = None

    @property
    def uri(self):
        return f"mongodb://{self.host}:{self.port}/?retryWrites=false"

    def command(self):
        executable = shutil.which("secantusd-py", path=str(Path(sys.executable).parent))
        args = [executable or "secantusd-py", "--host", self.host, "--port", str(self.port)]
        args += ["--storage-path", self.storage, "--log-level", "WARNING"]
        if self.storage != ":memory:":
            args.append("--sync-on-commit")  # a killed laptop loses no sale
        if self.test_commands:
            args.append("--enable-test-commands")
        return args

    def start(self):
        """Start the server and wait until it answers a ping.

        :raise EmbeddedError: the port is taken, or the server exited or never answered.
        """
        if not port_is_free(self.host, self.port):
            raise EmbeddedError(
                f"the embedded database cannot start: port {self.port} on {self.host} is taken "
                "(set EMBEDDED_DB_PORT to another port, or MONGODB_URI to use a running MongoDB)"
            )
        if self.storage != ":memory:":
            Path(self.storage).mkdir(parents=True, exist_ok=True)
        with open(self.log_file or os.devnull, "ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedError(
                    f"the embedded database exited at start (code {self.process.returncode}); "
                    f"see {self.log_file or 'its output'}"
                )
            if answers(self.uri, timeout_ms=200):
                return self
            time.sleep(0.1)
        self.stop()
        raise EmbeddedError(f"the embedded database did not answer within {READY_TIMEOUT_SECONDS} s")

    def stop(self):
        """Stop the server the way it likes (SIGTERM: nothing written is lost)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


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
    database = EmbeddedDatabase(
        settings.DATA_DIR / "db",
        port=int(env("EMBEDDED_DB_PORT", DEFAULT_DB_PORT)),
        log_file=settings.DATA_DIR / "secantusdb.log",
    )
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    database.start()
    uri_file.write_text(database.uri)
    print(f"ticket_api: embedded database at {database.uri} (files in {database.storage})", flush=True)
    try:
        yield database.uri
    finally:
        uri_file.unlink(missing_ok=True)
        database.stop()


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


def main(argv):
    if not argv or argv[0] not in ("run", "exec") or (argv[0] == "exec" and len(argv) < 2):
        sys.exit(__doc__)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    settings = Config()
    if settings.APP_ENV == "production":
        sys.exit("ticket_api: APP_ENV=production never starts the embedded stand-ins")
    if argv[0] == "run":
        host, port = env("HOST", "127.0.0.1"), env("PORT", "5000")
        argv = ["exec", sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", host, "--port", port]
    try:
        with database_for(settings) as uri:
            return run_child(argv[1:], {"MONGODB_URI": uri})
    except EmbeddedError as error:
        sys.exit(f"ticket_api: {error}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
