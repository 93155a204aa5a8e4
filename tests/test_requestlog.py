"""Each request has an id, echoed in `X-Request-ID` and stamped on its log lines."""

import logging

import pytest

from ticket_api.requestlog import LOG_FORMAT, RequestIdFilter


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []
        self.addFilter(RequestIdFilter())
        self.setFormatter(logging.Formatter(LOG_FORMAT))

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines():
    handler = Collect()
    logging.getLogger().addHandler(handler)
    yield handler.lines
    logging.getLogger().removeHandler(handler)


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
