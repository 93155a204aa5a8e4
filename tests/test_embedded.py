"""The embedded database as `make run` uses it: real child processes, real ports, real files."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from pymongo import MongoClient

from support import LAUNCHER, PASSWORD, EmbeddedDatabase, free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent


def test_users_survive_a_restart_of_the_embedded_database(make_app, tmp_path):
    storage = tmp_path / "db"
    body = {"username": "ada", "email": "ada@example.com", "password": PASSWORD}

    server = EmbeddedDatabase(storage).start()
    try:
        signup = make_app(MONGODB_URI=server.uri).test_client().post("/auth/signup", json=body)
    finally:
        server.stop()
    assert signup.status_code == 201

    server = EmbeddedDatabase(storage).start()
    try:
        login = make_app(MONGODB_URI=server.uri).test_client().post("/auth/login", json=body)
    finally:
        server.stop()

    assert login.status_code == 201


def dev_env(tmp_path, **extra):
    env = {key: value for key, value in os.environ.items() if key != "MONGODB_URI"}
    return {
        **env,
        "DATA_DIR": str(tmp_path / "instance"),
        "EMBEDDED_DB_PORT": str(free_port()),
        "EMBEDDED_STRIPE_PORT": str(free_port()),
        "PORT": str(free_port()),
        "BCRYPT_ROUNDS": "4",
        **extra,
    }


def start_make_run(env):
    """`make run` in its own process group, as a terminal would start it."""
    return subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_until_serving(base_url, process, seconds=60):
    def serving():
        assert process.poll() is None, process.stdout.read()
        try:
            return requests.get(f"{base_url}/healthz", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    if not wait_for(serving, seconds):
        pytest.fail(f"{base_url} did not answer within {seconds} s")


def create_event(base_url, credentials):
    """Log in afresh and try to create an event: the status says whether admin_required let us."""
    login = requests.post(f"{base_url}/auth/login", json=credentials, timeout=10).json()
    event = {"name": "Jazz night", "date": "2030-01-01T20:00:00Z", "capacity": 10}
    headers = {"Authorization": f"Bearer {login['token']}"}
    return requests.post(f"{base_url}/events", json=event, headers=headers, timeout=10).status_code


def port_is_open(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def ctrl_c(process):
    os.killpg(process.pid, signal.SIGINT)
    return process.communicate(timeout=30)[0]


def test_make_run_serves_make_admin_promotes_and_ctrl_c_stops_everything(tmp_path):
    env = dev_env(tmp_path)
    base_url = f"http://127.0.0.1:{env['PORT']}"
    run = start_make_run(env)
    try:
        wait_until_serving(base_url, run)
        body = {"username": "grace", "email": "staff@example.com", "password": PASSWORD}
        assert requests.post(f"{base_url}/auth/signup", json=body, timeout=10).status_code == 201

        admin = subprocess.run(
            ["make", "--no-print-directory", "admin", "EMAIL=Staff@Example.com"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )
        assert admin.returncode == 0, admin.stdout + admin.stderr
        assert "staff@example.com (grace) is now an admin" in admin.stdout
        uri = (tmp_path / "instance" / "mongodb.uri").read_text()
        with MongoClient(uri) as client:
            assert client.ticket_api.users.find_one({"email": "staff@example.com"})["role"] == "admin"
        assert create_event(base_url, body) == 201
        plain = {"username": "fan", "email": "fan@example.com", "password": PASSWORD}
        requests.post(f"{base_url}/auth/signup", json=plain, timeout=10)
        assert create_event(base_url, plain) == 403
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
