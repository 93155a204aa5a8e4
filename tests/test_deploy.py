"""The deployment in `deploy/`, for real: gunicorn (gunicorn.conf.py) behind nginx (the site
config, with only its addresses changed), on free loopback ports."""

import gzip
import http.client
import json
import os
import shutil
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pymongo import MongoClient

from support import PASSWORD, WEBHOOK_SECRET, free_port, wait_for

pytestmark = pytest.mark.system  # (pyproject.toml: the system tests)

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx-ticket_api.conf"
NGINX_MAIN = """
daemon off;
worker_processes 1;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
}}
"""


def nginx_binary():
    return shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)


def wait_for_port(port, process, seconds=30):
    def answers():
        assert process.poll() is None, f"exited with {process.returncode}"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return True
        except OSError:
            return False
        finally:
            connection.close()

    if not wait_for(answers, seconds):
        pytest.fail(f"nothing answered on port {port}")


def gunicorn_command(port):
    return [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "wsgi:app"]


class Deployment:
    def __init__(self, database, nginx_port, gunicorn_port, gunicorn_log, gunicorn_env):
        self.database = database
        self.nginx_port, self.gunicorn_port, self.gunicorn_log = nginx_port, gunicorn_port, gunicorn_log
        self.gunicorn_env = gunicorn_env

    def request(self, method, path, body=None, headers=None, source="127.0.0.1", port=None):
        """An HTTP request from a chosen loopback address (a different client each)."""
        connection = http.client.HTTPConnection("127.0.0.1", port or self.nginx_port, timeout=10,
                                                source_address=(source, 0))
        payload = json.dumps(body).encode() if isinstance(body, dict) else body
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        if response.getheader("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        return response, json.loads(data) if data else None


@pytest.fixture(scope="module")
def deployment(mongodb_uri, stripe_standin, tmp_path_factory):
    nginx = nginx_binary()
    if nginx is None:
        pytest.fail("nginx is not installed and could not be (make test installs it with apt-get)")
    tmp = tmp_path_factory.mktemp("deploy")
    database = f"test_deploy_{uuid.uuid4().hex[:8]}"
    nginx_port, gunicorn_port = free_port(), free_port()
    env = {
        **os.environ, "APP_ENV": "development", "MONGODB_URI": mongodb_uri, "MONGODB_DB": database,
        "DATA_DIR": str(tmp), "JWT_SECRET_KEY": "deploy-" + "k" * 40, "BCRYPT_ROUNDS": "4",
        "TRUST_PROXY": "1", "RATELIMIT_ENABLED": "true", "RATELIMIT_LOGIN": "3 per minute",
        "STRIPE_SECRET_KEY": "sk_test_tests", "STRIPE_API_BASE": stripe_standin.url,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "WEB_CONCURRENCY": "2",
    }
    gunicorn_log = tmp / "gunicorn.log"
    with gunicorn_log.open("wb") as log:
        gunicorn = subprocess.Popen(gunicorn_command(gunicorn_port), cwd=ROOT, env=env, stdout=log,
                                    stderr=subprocess.STDOUT)
    site = SITE.read_text()
    assert site.count("listen 80;") == 1 and site.count("server 127.0.0.1:8000;") == 1
    site = site.replace("listen 80;", f"listen 127.0.0.1:{nginx_port};")
    site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{gunicorn_port};")
    (tmp / "site.conf").write_text(site)
    user = "user root;" if os.geteuid() == 0 else ""
    (tmp / "nginx.conf").write_text(NGINX_MAIN.format(tmp=tmp, user=user))
    checked = subprocess.run([nginx, "-t", "-c", str(tmp / "nginx.conf")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    nginx_process = subprocess.Popen([nginx, "-c", str(tmp / "nginx.conf")], stderr=subprocess.DEVNULL)
    try:
        wait_for_port(gunicorn_port, gunicorn)
        wait_for_port(nginx_port, nginx_process)
        with MongoClient(mongodb_uri) as client:
            yield Deployment(client[database], nginx_port, gunicorn_port, gunicorn_log, env)
    finally:
        nginx_process.terminate()
        gunicorn.terminate()
        nginx_process.wait(timeout=30)
        gunicorn.wait(timeout=60)
        with MongoClient(mongodb_uri) as client:
            client.drop_database(database)


def login_attempts(deployment, source, count, port=None):
    """Wrong-password logins from one client address, each with a different forged
    X-Forwarded-For: the statuses say which address the limiter counted."""
    statuses = []
    for n in range(count):
        body = {"email": f"nobody{n}@example.com", "password": "wrong password"}
        forged = {"X-Forwarded-For": f"198.51.100.{n}"}
        response, _ = deployment.request("POST", "/auth/login", body, headers=forged, source=source, port=port)
        statuses.append(response.status)
    return statuses


def test_signup_login_and_events_through_nginx(deployment):
    user = {"username": "viaproxy", "email": "viaproxy@example.com", "password": PASSWORD}
    signup, _ = deployment.request("POST", "/auth/signup", user)
    login, body = deployment.request("POST", "/auth/login", user, source="127.0.0.5")
    now = datetime.now(UTC)
    deployment.database.events.insert_many([
        {"name": f"event {n}", "date": now + timedelta(days=n + 1), "capacity": 10, "price": 0,
         "currency": "usd", "location": "Main hall", "description": "x" * 50, "image": None,
         "seatsTaken": 0, "createdAt": now, "updatedAt": now, "__v": 0}
        for n in range(20)
    ])

    listed, listing = deployment.request("GET", "/events", headers={"Accept-Encoding": "gzip"})

    assert signup.status == 201
    assert login.status == 201 and body["token"]
    assert listed.status == 200
    assert len(listing) == 20
    assert listed.getheader("Content-Encoding") == "gzip"
    assert len(listed.getheader("X-Request-ID")) == 32  # nginx's $request_id, passed through


def test_the_limiter_keys_on_the_client_address_nginx_forwards(deployment):
    assert login_attempts(deployment, "127.0.0.2", 4) == [404, 404, 404, 429]
    assert login_attempts(deployment, "127.0.0.3", 1) == [404]


def test_a_forged_forwarded_for_sent_straight_to_gunicorn_is_not_trusted(deployment):
    statuses = login_attempts(deployment, "127.0.0.4", 4, port=deployment.gunicorn_port)

    assert statuses == [404, 404, 404, 429]


def test_a_body_over_the_limit_is_a_json_413_from_nginx(deployment):
    response, body = deployment.request("POST", "/auth/signup", b"x" * (2 * 1024 * 1024))

    assert response.status == 413
    assert body == {"message": "Request Entity Too Large", "code": "payload_too_large"}


def test_the_log_has_one_line_per_request_with_its_id_and_no_secrets(deployment):
    user = {"username": "logged", "email": "logged@example.com", "password": "very secret words"}
    deployment.request("POST", "/auth/signup", user, source="127.0.0.6")
    response, body = deployment.request("POST", "/auth/login", user, source="127.0.0.6")
    request_id = response.getheader("X-Request-ID")
    access = f"[{request_id}] ticket_api.access: 127.0.0.6 POST /auth/login 201"  # the client, not nginx

    assert wait_for(lambda: access in deployment.gunicorn_log.read_text())
    log = deployment.gunicorn_log.read_text()
    assert log.count(request_id) == 1  # one access line per request
    assert "very secret words" not in log
    assert body["token"] not in log


def test_a_second_gunicorn_on_the_same_port_refuses_to_start(deployment):
    """Each worker binds its own socket with SO_REUSEPORT (gunicorn.conf.py), which would
    let a second server bind the port too and silently take half the traffic."""
    second = subprocess.run(gunicorn_command(deployment.gunicorn_port), cwd=ROOT, env=deployment.gunicorn_env,
                            capture_output=True, text=True, timeout=60)

    assert second.returncode == 1
    assert f"ticket_api: 127.0.0.1:{deployment.gunicorn_port} is already in use" in second.stderr
    response, _ = deployment.request("GET", "/healthz")
    assert response.status == 200
