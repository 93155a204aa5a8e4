"""Development and tests only: the embedded stand-ins as child processes on loopback.

SecantusDB (a MongoDB wire-protocol server) and the Stripe stand-in
(`stripe_standin.py`). `launcher.py` starts them for `make run`, `make serve` and the
operator commands; `tests/conftest.py` starts its own.

No child outlives the process that started it, however that one ends: each asks Linux
for a SIGTERM when its parent dies (`prctl(PR_SET_PDEATHSIG)`), which covers a SIGKILL
that leaves the parent no time to stop anything. A child may also record its pid, and
its starter's, in a file (`pid_file`): a later start on the same files stops one whose
starter is gone (`stop_leftover`) rather than finding its port taken.
"""

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

DEFAULT_DB_PORT = 27018
DEFAULT_STRIPE_PORT = 12111
WEBHOOK_EVENTS = ["payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded"]
READY_TIMEOUT_SECONDS = 20


PR_SET_PDEATHSIG = 1
try:
    LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
except OSError:
    LIBC = None


class EmbeddedError(RuntimeError):
    """A stand-in could not start; the message is one line a person can act on."""


class PortTaken(EmbeddedError):
    """The port of a stand-in is taken by another process."""

    def __init__(self, message, host, port):
        super().__init__(message)
        self.host, self.port = host, port


def dies_with_this_process():
    """A `preexec_fn` for `subprocess.Popen`: the child gets a SIGTERM when the process
    starting it dies, even by SIGKILL (Linux; elsewhere None: nothing to do)."""
    if LIBC is None:
        return None
    parent = os.getpid()

    def preexec():
        LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl: nobody will send it
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def command_line(pid):
    """The arguments of a live process (Linux's /proc), or None."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return None


def stop_leftover(pid_file, marker):
    """Stop the child recorded in `pid_file` if its starter is gone and it is still ours
    (its command line holds `marker`, say its store's path); forget the record either way
    unless its starter still runs. Returns the pid stopped, or None."""
    try:
        child, starter = (int(word) for word in Path(pid_file).read_text().split())
    except (OSError, ValueError):
        return None
    if command_line(starter) and any("ticket_api.dev" in arg for arg in command_line(starter)):
        return None  # its starter runs: it is that one's to stop
    stopped = None
    if marker in (command_line(child) or []):
        os.kill(child, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while command_line(child) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        if command_line(child) is not None:
            os.kill(child, signal.SIGKILL)
        stopped = child
    Path(pid_file).unlink(missing_ok=True)
    return stopped


def embedded_database_storage(port):
    """The storage path of the SecantusDB serving `port` on this machine, if one can be seen
    (Linux's /proc; the processes of other users may be hidden), else None."""
    for proc in Path("/proc").glob("[0-9]*"):
        args = command_line(proc.name) or []
        ours = any("secantusd" in arg for arg in args[:2]) and "--storage-path" in args and "--port" in args
        if ours and args[args.index("--port") + 1] == str(port):
            storage = args[args.index("--storage-path") + 1]
            try:
                return str(Path(os.readlink(proc / "cwd")) / storage)
            except OSError:
                return storage
    return None


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


def database_answers(uri, timeout_ms=500):
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

    def __init__(self, port=0, host="127.0.0.1", log_file=None, pid_file=None):
        self.host = host
        self.port = port or free_port(host)
        self.log_file = log_file
        self.pid_file = pid_file
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
            raise PortTaken(
                f"the embedded {self.name} cannot start: port {self.port} on {self.host} is taken "
                f"({self.port_advice})", self.host, self.port,
            )
        with open(self.log_file or os.devnull, "ab") as log:
            # Its own session: a Ctrl-C reaches the starter, which stops it in order.
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=log, start_new_session=True, preexec_fn=dies_with_this_process()
            )
        if self.pid_file:
            Path(self.pid_file).write_text(f"{self.process.pid} {os.getpid()}\n")
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
        if self.pid_file:
            Path(self.pid_file).unlink(missing_ok=True)


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
        return database_answers(self.uri, timeout_ms=200)


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
        args = [sys.executable, "-m", "ticket_api.dev.stripe_standin", "--port", str(self.port)]
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
