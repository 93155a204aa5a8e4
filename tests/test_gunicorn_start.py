"""gunicorn as systemd runs it: a bad configuration stops the master at once, with one line
and a non-zero exit (never a restart loop), and a stop then a start on the same port works
at once (no "port taken" from the connections the first left in TIME-WAIT)."""

import http.client
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from support import WEBHOOK_SECRET, free_port, wait_for

pytestmark = pytest.mark.system  # (pyproject.toml: the system tests)

ROOT = Path(__file__).resolve().parent.parent


def gunicorn(port, env, config="gunicorn.conf.py", **popen):
    command = [sys.executable, "-m", "gunicorn", "-c", str(config), "--bind", f"127.0.0.1:{port}", "wsgi:app"]
    return subprocess.Popen(command, cwd=ROOT, env=env, **popen)


def production_env(tmp_path, **changes):
    env = {key: value for key, value in os.environ.items() if key not in ("MONGODB_URI", "STRIPE_SECRET_KEY")}
    env.update({
        "APP_ENV": "production", "DATA_DIR": str(tmp_path), "MONGODB_URI": "mongodb://127.0.0.1:1",
        "MONGODB_TIMEOUT_MS": "200", "JWT_SECRET_KEY": "p" * 32, "STRIPE_SECRET_KEY": "sk_live_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_x", **changes,
    })
    return {name: value for name, value in env.items() if value is not None}


def exits_within_seconds(process, seconds=15):
    started = time.monotonic()
    try:
        _, stderr = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()  # a master restarting its workers in a loop: stopped here, not left behind
        process.communicate()
        pytest.fail(f"still running after {seconds} s")
    return process.returncode, time.monotonic() - started, stderr


def unit_commands(name):
    """The unit's `ExecStartPre=`/`ExecStart=` command lines, run from this checkout's venv."""
    venv = "/srv/ticket_api/.venv/bin/"
    for line in (ROOT / "deploy" / "ticket-api.service").read_text().splitlines():
        if line.startswith(f"{name}="):
            words = line.removeprefix(f"{name}=").split()
            program = words[0].removeprefix(venv)
            yield ([sys.executable] if program == "python" else [sys.executable, "-m", program]) + words[1:]


def start_as_the_unit_does(env):
    """systemd's start: each ExecStartPre, then ExecStart unless one failed."""
    for command in [*unit_commands("ExecStartPre"), *unit_commands("ExecStart")]:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        code, seconds, stderr = exits_within_seconds(process)
        if code != 0:
            return code, seconds, stderr
    pytest.fail("the service started with a bad setting")


BAD_SETTINGS = [
    ({"JWT_SECRET_KEY": "a"}, "JWT_SECRET_KEY of at least 32 characters"),
    ({"STRIPE_WEBHOOK_SECRET": None}, "needs STRIPE_WEBHOOK_SECRET"),
    ({"WEB_CONCURRENCY": "abc"}, "WEB_CONCURRENCY='abc' (a whole number)"),
    ({"HOLD_MINUTES": "abc"}, "HOLD_MINUTES='abc' (a whole number)"),
    ({"STRIPE_WEBHOOK_SECRET": "whsec_x  # from step 6"}, "STRIPE_WEBHOOK_SECRET ends in a # comment"),
]


@pytest.mark.parametrize(("changes", "named"), BAD_SETTINGS)
def test_the_unit_refuses_a_bad_setting_at_once_with_one_line(tmp_path, changes, named):
    env = production_env(tmp_path, PORT=str(free_port()), **changes)

    code, seconds, stderr = start_as_the_unit_does(env)

    assert code == 1
    assert seconds < 10
    assert stderr.strip().splitlines() == [stderr.strip()]
    assert stderr.startswith("ticket_api cannot start: ") and named in stderr, stderr


@pytest.mark.parametrize(("changes", "named"), [bad for bad in BAD_SETTINGS if "WEB_CONCURRENCY" not in bad[0]])
def test_a_bad_setting_stops_the_gunicorn_master_at_once_with_one_line(tmp_path, changes, named):
    master = gunicorn(free_port(), production_env(tmp_path, **changes), stderr=subprocess.PIPE, text=True)

    code, seconds, stderr = exits_within_seconds(master)

    assert code == 1
    assert seconds < 10
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ticket_api cannot start: ") and named in lines[0], stderr


def test_a_word_in_web_concurrency_stops_gunicorn_itself_at_once(tmp_path):
    """gunicorn reads it when imported, before our config: its traceback, but no restart loop."""
    master = gunicorn(free_port(), production_env(tmp_path, WEB_CONCURRENCY="abc"), stderr=subprocess.PIPE, text=True)

    code, seconds, _ = exits_within_seconds(master)

    assert code != 0
    assert seconds < 10


def test_without_our_config_a_worker_that_cannot_start_halts_the_master(tmp_path):
    """`gunicorn wsgi:app` with an empty config: the check is then the worker's, which exits
    with gunicorn's WORKER_BOOT_ERROR, so the master gives up instead of restarting it."""
    empty = tmp_path / "empty.py"
    empty.write_text("")
    env = production_env(tmp_path, HOLD_MINUTES="abc")
    master = gunicorn(free_port(), env, config=empty, stderr=subprocess.PIPE, text=True)

    code, seconds, stderr = exits_within_seconds(master)

    assert code == 3
    assert seconds < 10
    assert stderr.count("ticket_api cannot start: malformed settings: HOLD_MINUTES='abc'") == 1  # no restart
    assert "Traceback" not in stderr


def healthz(port, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz", headers=headers or {})
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def closed_by_the_server(port):
    """A request the server answers and then closes first: the side that closes first keeps
    the connection in TIME-WAIT, here on `port`, for a minute."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        received = b""
        while chunk := connection.recv(4096):  # to the server's FIN
            received += chunk
    return received.startswith(b"HTTP/1.1 200")


def connections_in_time_wait(port):
    """Connections on local `port` in TIME-WAIT (state 06 of the kernel's tables)."""
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    rows = [line.split() for table in tables if table.exists() for line in table.read_text().splitlines()[1:]]
    return sum(1 for row in rows if int(row[1].rsplit(":", 1)[1], 16) == port and row[3] == "06")


def test_stop_then_start_on_the_same_port_serves_again_at_once(mongodb_uri, stripe_standin, tmp_path):
    env = {
        **os.environ, "APP_ENV": "development", "MONGODB_URI": mongodb_uri,
        "MONGODB_DB": f"test_restart_{uuid.uuid4().hex[:8]}", "DATA_DIR": str(tmp_path),
        "JWT_SECRET_KEY": "restart-" + "k" * 32, "STRIPE_SECRET_KEY": "sk_test_tests",
        "STRIPE_API_BASE": stripe_standin.url, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "WEB_CONCURRENCY": "1",
    }
    port = free_port()
    first = gunicorn(port, env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: healthz(port) == 200, 30)
        assert [closed_by_the_server(port) for _ in range(5)] == [True] * 5
    finally:
        first.terminate()
        first.wait(timeout=60)

    stopped = time.monotonic()
    assert connections_in_time_wait(port) >= 5
    log = tmp_path / "second.log"
    with log.open("wb") as output:
        second = gunicorn(port, env, stdout=output, stderr=subprocess.STDOUT)
    try:
        assert time.monotonic() - stopped < 1
        assert wait_for(lambda: second.poll() is not None or healthz(port) == 200, 30)
        assert second.poll() is None, log.read_text()
        # Serving again took 0.4 s here (a worker's boot): bounded loosely, machines are noisy.
        assert time.monotonic() - stopped < 10
    finally:
        second.terminate()
        second.wait(timeout=60)
