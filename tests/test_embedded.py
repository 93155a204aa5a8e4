"""The embedded database as `make run` uses it: real child processes, real ports, real files."""

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from pymongo import MongoClient

from support import (
    LAUNCHER,
    PASSWORD,
    ROOT,
    EmbeddedDatabase,
    EmbeddedStripe,
    ctrl_c,
    dev_env,
    start_make_run,
    wait_for,
    wait_until_serving,
)
from ticket_api import close

pytestmark = pytest.mark.system  # (pyproject.toml: the system tests)


def test_users_survive_a_restart_of_the_embedded_database(new_app, tmp_path):
    storage = tmp_path / "db"
    body = {"username": "ada", "email": "ada@example.com", "password": PASSWORD}

    server = EmbeddedDatabase(storage).start()
    try:
        app = new_app(MONGODB_URI=server.uri)
        signup = app.test_client().post("/auth/signup", json=body)
        close(app)  # while its server answers: closing later waits out server selection to end its sessions
    finally:
        server.stop()
    assert signup.status_code == 201

    server = EmbeddedDatabase(storage).start()
    try:
        app = new_app(MONGODB_URI=server.uri)
        login = app.test_client().post("/auth/login", json=body)
        close(app)
    finally:
        server.stop()

    assert login.status_code == 201


def create_event(base_url, credentials):
    """Log in afresh and try to create an event: the status says whether admin_required let us."""
    login = requests.post(f"{base_url}/auth/login", json=credentials, timeout=10).json()
    event = {"name": "Jazz night", "date": "2030-01-01T20:00:00Z", "capacity": 10}
    headers = {"Authorization": f"Bearer {login['token']}"}
    return requests.post(f"{base_url}/events", json=event, headers=headers, timeout=10).status_code


def scan(base_url, credentials):
    """Log in afresh and scan a code at the door."""
    login = requests.post(f"{base_url}/auth/login", json=credentials, timeout=10).json()
    headers = {"Authorization": f"Bearer {login['token']}"}
    return requests.post(f"{base_url}/checkin", json={"code": "NOSUCHCODE"}, headers=headers, timeout=10)


def port_is_open(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def make(target, env, *variables):
    return subprocess.run(["make", "--no-print-directory", target, *variables],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_make_run_serves_make_admin_and_make_role_set_roles_and_ctrl_c_stops_everything(tmp_path):
    env = dev_env(tmp_path)
    base_url = f"http://127.0.0.1:{env['PORT']}"
    run = start_make_run(env)
    try:
        wait_until_serving(base_url, run)
        body = {"username": "grace", "email": "staff@example.com", "password": PASSWORD}
        assert requests.post(f"{base_url}/auth/signup", json=body, timeout=10).status_code == 201

        admin = make("admin", env, "EMAIL=Staff@Example.com")
        assert admin.returncode == 0, admin.stdout + admin.stderr
        assert "staff@example.com (grace) is now an admin" in admin.stdout
        uri = (tmp_path / "instance" / "mongodb.uri").read_text()
        with MongoClient(uri) as client:
            assert client.ticket_api.users.find_one({"email": "staff@example.com"})["role"] == "admin"
        assert create_event(base_url, body) == 201
        plain = {"username": "fan", "email": "fan@example.com", "password": PASSWORD}
        requests.post(f"{base_url}/auth/signup", json=plain, timeout=10)
        assert create_event(base_url, plain) == 403

        door = make("role", env, "EMAIL=Staff@Example.com", "ROLE=door")
        assert door.returncode == 0, door.stdout + door.stderr
        assert "staff@example.com (grace) now has the role door" in door.stdout
        assert create_event(base_url, body) == 403
        assert scan(base_url, body).json()["code"] == "unknown_code"  # door staff may scan
        assert scan(base_url, plain).status_code == 403
        unknown_role = make("role", env, "EMAIL=staff@example.com", "ROLE=superuser")
        assert unknown_role.returncode != 0
        assert "'superuser' is not one of 'user', 'door', 'admin'" in unknown_role.stderr
    finally:
        output = ctrl_c(run)

    assert f"Running on {base_url}" in output
    assert "Traceback" not in output
    assert not port_is_open(int(env["PORT"]))
    assert not port_is_open(int(env["EMBEDDED_DB_PORT"]))
    assert not (tmp_path / "instance" / "mongodb.uri").exists()

    second_run = start_make_run(env)
    try:
        wait_until_serving(base_url, second_run)
        login = requests.post(f"{base_url}/auth/login", json=body, timeout=10)
    finally:
        ctrl_c(second_run)
    assert login.status_code == 201


def test_a_taken_database_port_is_one_clear_line_and_a_failure(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = dev_env(tmp_path, EMBEDDED_DB_PORT=str(taken.getsockname()[1]))
        result = subprocess.run(
            [sys.executable, "-m", LAUNCHER, "run"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"port {env['EMBEDDED_DB_PORT']} on 127.0.0.1 is taken" in lines[0]


def recorded_pids(data_dir):
    """{pid file: (child pid, launcher pid)} of what the launcher started."""
    return {
        name: tuple(int(word) for word in (data_dir / name).read_text().split())
        for name in ("secantusdb.pid", "localstripe.pid")
    }


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]


def serves_again(env, base_url):
    run = start_make_run(env)
    try:
        wait_until_serving(base_url, run)
    finally:
        output = ctrl_c(run)
    return output


@pytest.mark.parametrize("how", ["SIGHUP to the terminal's process group", "SIGKILL to the launcher"])
def test_no_child_outlives_the_launcher_and_the_next_make_run_starts(tmp_path, how):
    env = dev_env(tmp_path)
    base_url = f"http://127.0.0.1:{env['PORT']}"
    run = start_make_run(env)
    try:
        wait_until_serving(base_url, run)
        children = recorded_pids(tmp_path / "instance")
        launcher = children["secantusdb.pid"][1]
        if how.startswith("SIGHUP"):
            os.killpg(run.pid, signal.SIGHUP)
        else:
            os.kill(launcher, signal.SIGKILL)
        run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            ctrl_c(run)

    assert wait_for(lambda: not any(alive(child) for child, _ in children.values()), 20)
    if how.startswith("SIGHUP"):  # stopped in order, as by Ctrl-C: nothing left recorded
        assert sorted(path.name for path in (tmp_path / "instance").glob("*.pid")) == []
        assert not (tmp_path / "instance" / "mongodb.uri").exists()
    ports = [int(env[name]) for name in ("PORT", "EMBEDDED_DB_PORT", "EMBEDDED_STRIPE_PORT")]
    assert wait_for(lambda: not any(port_is_open(port) for port in ports), 20)
    assert "is taken" not in serves_again(env, base_url)


def test_a_stand_in_left_by_a_crashed_run_is_stopped_at_the_next_start(tmp_path):
    env = dev_env(tmp_path)
    data_dir = tmp_path / "instance"
    data_dir.mkdir()
    gone = subprocess.Popen(["true"])
    gone.wait()
    left = EmbeddedStripe(store=data_dir / "localstripe.pickle", port=int(env["EMBEDDED_STRIPE_PORT"])).start()
    # Reaped as soon as it ends, as init reaps the orphan a dead run leaves: else it stays a
    # zombie of this process, which the launcher waits 15 s to see gone.
    threading.Thread(target=left.process.wait, daemon=True).start()
    try:
        (data_dir / "localstripe.pid").write_text(f"{left.process.pid} {gone.pid}\n")  # as its dead run left it

        output = serves_again(env, f"http://127.0.0.1:{env['PORT']}")
    finally:
        left.stop()

    assert f"stopped the Stripe stand-in an earlier run left running (pid {left.process.pid})" in output
    assert left.process.returncode is not None


def make_admin(env):
    return make("admin", env, "EMAIL=staff@example.com")


def test_make_role_without_a_role_says_how_to_use_it(tmp_path):
    usage = make("role", dev_env(tmp_path), "EMAIL=staff@example.com")

    assert usage.returncode == 2
    assert "usage: make role EMAIL=someone@example.com ROLE=admin|door|user" in usage.stdout


def test_make_admin_on_another_data_dir_names_the_one_make_run_uses(tmp_path):
    env = dev_env(tmp_path)
    serving = EmbeddedDatabase(tmp_path / "other" / "db", port=int(env["EMBEDDED_DB_PORT"])).start()
    try:
        admin = make_admin(env)
    finally:
        serving.stop()

    assert admin.returncode != 0
    assert admin.stderr.strip().splitlines()[0] == (
        f"ticket_api: port {env['EMBEDDED_DB_PORT']} is taken by the embedded database of `make run` with "
        f"DATA_DIR={tmp_path / 'other'}: run this with that DATA_DIR (this one is {env['DATA_DIR']})"
    )


def test_make_admin_on_a_port_taken_by_something_else_says_to_use_make_runs_data_dir(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        admin = make_admin(dev_env(tmp_path, EMBEDDED_DB_PORT=str(taken.getsockname()[1])))

    assert admin.returncode != 0
    assert "run this with the same DATA_DIR as `make run`, or start `make run` with this DATA_DIR" in admin.stderr
    assert "EMBEDDED_DB_PORT" not in admin.stderr
