"""Each request has an id, echoed in `X-Request-ID` and stamped on its log lines."""

import logging
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from support import WEBHOOK_SECRET, free_port, wait_for
from ticket_api.requestlog import LOG_FORMAT, EscapingFormatter, RequestIdFilter

ROOT = Path(__file__).resolve().parent.parent
FORGED = "2026-12-01 20:00:00,000 INFO [abc] ticket_api.access: 10.0.0.1 GET /admin 200 1.0ms"


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []
        self.addFilter(RequestIdFilter())
        self.setFormatter(EscapingFormatter(LOG_FORMAT))

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines():
    handler = Collect()
    logging.getLogger().addHandler(handler)
    yield handler.lines
    logging.getLogger().removeHandler(handler)


@pytest.fixture
def client(make_app):
    """Behind nginx (a trusted proxy), which sends each request's id."""
    return make_app(TRUST_PROXY=1).test_client()


def test_the_id_sent_by_nginx_is_echoed_and_logged(client, log_lines):
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})

    assert response.headers["X-Request-ID"] == "abc-123"
    [access] = [line for line in log_lines if "ticket_api.access" in line]
    assert "[abc-123]" in access
    assert "GET /healthz 200" in access


@pytest.mark.parametrize("sent", [None, "", "bad id with spaces", "x" * 129, "<script>"])
def test_a_missing_or_odd_id_is_replaced_by_a_generated_one(client, sent):
    headers = {"X-Request-ID": sent} if sent is not None else {}

    response = client.get("/healthz", headers=headers)

    assert len(response.headers["X-Request-ID"]) == 32
    assert response.headers["X-Request-ID"] != sent


def test_without_a_proxy_in_front_a_clients_id_is_not_taken(app):
    response = app.test_client().get("/healthz", headers={"X-Request-ID": "forged-by-client"})

    assert len(response.headers["X-Request-ID"]) == 32


def test_errors_carry_the_id_too(client):
    assert client.get("/nowhere", headers={"X-Request-ID": "r-404"}).headers["X-Request-ID"] == "r-404"


def test_no_log_line_holds_a_password_a_token_or_card_data(client, auth, events, log_lines):
    user = auth.signup(password="hunter2 secret words")
    token = auth.login(user["email"], "hunter2 secret words")
    headers = {"Authorization": f"Bearer {token}"}
    client.post("/auth/login", json={"email": user["email"], "password": "wrong secret words"})
    ticket = client.post("/tickets", json={"eventId": events.create()["_id"]}, headers=headers).json
    client.post("/payment", json={"ticketId": ticket["_id"], "amount": 2500, "token": "pm_card_visa"},
                headers=headers)
    client.post("/payment", json={"ticketId": ticket["_id"], "amount": 2500, "token": "tok_chargeDeclined"},
                headers=headers)

    text = "\n".join(log_lines)
    assert "ticket_api.access" in text
    for secret in ("hunter2", "secret words", token, token.split(".")[2], "pm_card", "tok_", "$2b$"):
        assert secret not in text


def access_lines(log_lines):
    return [line for line in log_lines if "ticket_api.access" in line]


def test_a_forged_line_in_the_path_stays_in_one_escaped_record(client, log_lines):
    client.get("/healthz%0D%0A" + FORGED.replace(" ", "%20"))

    [access] = access_lines(log_lines)
    assert "\n" not in access and "\r" not in access
    assert "GET /healthz\\r\\n2026-12-01 20:00:00,000 INFO [abc] ticket_api.access: 10.0.0.1 GET /admin" in access
    assert len([line for line in "\n".join(log_lines).split("\n") if "/admin" in line]) == 1


def test_the_method_and_the_address_are_escaped_too(client, log_lines):
    client.open("/healthz", method="GET\nX", environ_base={"REMOTE_ADDR": "10.0.0.1\n" + FORGED})

    [access] = access_lines(log_lines)
    assert access.endswith("ms") and "\n" not in access
    assert "10.0.0.1\\n2026-12-01" in access and "GET\\nX /healthz" in access


CONTROLS = "".join(map(chr, [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]))


def test_every_control_character_and_the_backslash_in_any_logged_value_are_escaped(log_lines):
    logging.getLogger("ticket_api.anything").warning("user %s said %r", "ada" + CONTROLS + "\\", {"k": CONTROLS})

    [line] = log_lines
    assert not any(character in line for character in CONTROLS)
    assert "ada\\x00\\x01" in line and "\\t" in line and "\\x1b" in line and "\\x85" in line and "\\u2028" in line
    assert line.count("\\\\") >= 1  # the backslash itself, doubled


def test_a_traceback_is_under_its_record_each_line_indented(new_app, log_lines):
    def broken():
        raise RuntimeError("bad value\n" + FORGED)

    app = new_app()  # a route of its own
    app.add_url_rule("/broken", "broken", broken)
    app.test_client().get("/broken")

    [error] = [line for line in log_lines if "unhandled error" in line]
    first, *rest = error.split("\n")
    assert first.endswith("ticket_api.errors: unhandled error")
    assert rest and all(line.startswith("  ") for line in rest)
    assert "  " + FORGED in rest


@pytest.fixture
def dev_server(settings, tmp_path):
    """`make run`'s server (`flask --app wsgi run`) on a free port, its log in a file."""
    port = free_port()
    env = {key: str(value) for key, value in settings.items() if key not in ("TESTING", "RATELIMIT_ENABLED")}
    env.update(PATH="/usr/bin:/bin", STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, RATELIMIT_ENABLED="false")
    log = tmp_path / "server.log"
    with log.open("w") as output:
        server = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: "Running on" in log.read_text(), seconds=60), log.read_text()
        yield url, log
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.system
def test_under_the_development_server_one_escaped_access_line_and_no_query_string(dev_server):
    url, log = dev_server

    requests.get(f"{url}/healthz?token=eyJ-secret-token&password=hunter2", timeout=10)
    requests.get(f"{url}/events?page=1&token=eyJ-other-secret", timeout=10)
    requests.get(f"{url}/nowhere%0A{FORGED.replace(' ', '%20')}?token=eyJ-third", timeout=10)

    assert wait_for(lambda: log.read_text().count("ticket_api.access: 127.0.0.1") == 3), log.read_text()
    text = log.read_text()
    assert "eyJ" not in text and "hunter2" not in text and "token=" not in text
    assert "Running on http://127.0.0.1:" in text and "werkzeug: Press CTRL+C to quit" in text  # its banner
    lines = text.splitlines()
    assert len([line for line in lines if "/healthz" in line]) == 1
    assert len([line for line in lines if "/admin" in line]) == 1
    assert "GET /nowhere\\n2026-12-01" in text
    assert not [line for line in lines if '"GET ' in line]  # werkzeug's own request lines are off
