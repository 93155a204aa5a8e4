"""Every error body carries its stable `code` beside the unchanged message (API.md, "Error
codes"): each code of the table, provoked through HTTP, with the exact body; and the
OpenAPI document shows the code in every documented error's example."""

import pytest
from bson import ObjectId

from support import (
    VISA,
    bearer,
    begin,
    db_id,
    error_responses,
    free_port,
    in_days,
    lapse,
    operations,
    pay,
    reserve,
)
from ticket_api.db import utcnow
from ticket_api.errors import CODES_BY_STATUS, INVALID_DATA, ApiError

INVALID_JSON = {"message": "Invalid data", "code": "invalid_json", "errors": {"json": ["Invalid JSON body."]}}
UNAUTHORIZED = {"message": "Missing or malformed token", "code": "unauthorized"}


def answer(response):
    return response.status_code, response.json


# What any route can answer


def test_invalid_data(client, buyer):
    response = client.post("/tickets", json={}, headers=buyer)

    assert answer(response) == (400, {"message": "Invalid data", "code": "invalid_data",
                                      "errors": {"json": {"eventId": ["Missing data for required field."]}}})


def test_invalid_data_in_the_query(client):
    response = client.get("/events?limit=0")

    assert response.status_code == 400
    assert response.json["code"] == "invalid_data"
    assert list(response.json["errors"]) == ["query"]


def test_invalid_json(client):
    assert answer(client.post("/auth/signup", data="not json", content_type="application/json")) == (400, INVALID_JSON)


def test_unauthorized(client):
    assert answer(client.get("/auth/tickets")) == (401, UNAUTHORIZED)


@pytest.mark.parametrize("token, message", [("garbage", "Invalid token"), (None, "Token has been revoked")])
def test_every_token_refusal_is_unauthorized(client, buyer, token, message):
    if token is None:
        client.post("/auth/logout", headers=buyer)
    headers = bearer(token) if token else buyer

    assert answer(client.get("/auth/tickets", headers=headers)) == (401, {"message": message, "code": "unauthorized"})


def test_forbidden(client, buyer):
    response = client.post("/events", json={"name": "Jazz", "date": in_days(3), "capacity": 5}, headers=buyer)

    assert answer(response) == (403, {"message": "Admins only", "code": "forbidden"})


def test_not_found(client):
    assert answer(client.get("/no/such/route")) == (404, {"message": "Not Found", "code": "not_found"})


def test_method_not_allowed(client):
    assert answer(client.delete("/auth/login")) == (405, {"message": "Method Not Allowed",
                                                          "code": "method_not_allowed"})


def test_payload_too_large(client):
    response = client.post("/auth/signup", data="x" * (1024 * 1024 + 1), content_type="application/json")

    assert answer(response) == (413, {"message": "Request Entity Too Large", "code": "payload_too_large"})


def test_unsupported_media_type(client):
    response = client.post("/auth/signup", data="username=ada", content_type="application/x-www-form-urlencoded")

    assert answer(response) == (415, {"message": "Send the body as JSON (Content-Type: application/json)",
                                      "code": "unsupported_media_type"})


def test_rate_limited_by_flask_limiter(make_app):
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SIGNUP="1 per minute").test_client()
    client.post("/auth/signup", json={})

    response = client.post("/auth/signup", json={})

    assert answer(response) == (429, {"message": "Too many requests (1 per 1 minute); try again later",
                                      "code": "rate_limited"})
    assert int(response.headers["Retry-After"]) > 0


def test_rate_limited_failed_logins(make_app):
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_EMAIL="1 per minute").test_client()
    wrong = {"email": "ada@example.com", "password": "wrong password"}
    client.post("/auth/login", json=wrong)

    response = client.post("/auth/login", json=wrong)

    assert answer(response) == (429, {"message": "Too many requests (1 per 1 minute); try again later",
                                      "code": "rate_limited"})


def test_database_unavailable(client, event, fail_point):
    fail_point("find", times=None, close_connection=True)

    response = client.get(f"/events/{event['_id']}")

    assert answer(response) == (503, {"message": "Database unavailable", "code": "database_unavailable"})


def test_internal_error(client, event, fail_point):
    fail_point("find", times=None)

    response = client.get(f"/events/{event['_id']}")

    assert answer(response) == (500, {"message": "Internal server error", "code": "internal_error"})


# Accounts


def test_user_exists(client, auth):
    user = auth.signup()

    response = client.post("/auth/signup", json={"username": "other", "email": user["email"],
                                                 "password": user["password"]})

    assert answer(response) == (409, {"message": "User already exists", "code": "user_exists"})


def test_username_reserved(client):
    response = client.post("/auth/signup", json={"username": "admin", "email": "a@example.com",
                                                 "password": "correct horse battery"})

    assert answer(response) == (409, {"message": "This username is reserved", "code": "username_reserved"})


def test_user_not_found_at_login(client):
    response = client.post("/auth/login", json={"email": "nobody@example.com", "password": "whatever123"})

    assert answer(response) == (404, {"message": "User not found", "code": "user_not_found"})


def test_user_not_found_for_a_deleted_users_token(client, auth, database):
    user = auth.signup()
    headers = bearer(auth.login(user["email"]))
    database.users.delete_one({"_id": db_id(user)})

    assert answer(client.get("/auth/tickets", headers=headers)) == (404, {"message": "User not found",
                                                                         "code": "user_not_found"})


def test_invalid_credentials(client, auth):
    user = auth.signup()

    response = client.post("/auth/login", json={"email": user["email"], "password": "wrong password"})

    assert answer(response) == (400, {"message": "Invalid credentials", "code": "invalid_credentials"})


# Events and seats


def test_event_not_found(client, buyer):
    missing = str(ObjectId())
    expected = (404, {"message": "Event not found", "code": "event_not_found"})

    assert answer(client.get(f"/events/{missing}")) == expected
    assert answer(client.post("/tickets", json={"eventId": missing}, headers=buyer)) == expected


def test_event_started(client, events, buyer, database):
    event = begin(database, events.create())

    assert answer(reserve(client, buyer, event)) == (400, {"message": "Event already started", "code": "event_started"})


def test_sold_out(client, events, buyer):
    event = events.create(capacity=1)

    assert answer(reserve(client, buyer, event, quantity=2)) == (409, {"message": "Sold out", "code": "sold_out"})


def test_seat_limit(client, events, buyer):
    event = events.create(maxPerUser=1)

    assert answer(reserve(client, buyer, event, quantity=2)) == (409, {
        "message": "No more seats for this account: the event's limit per account is reached", "code": "seat_limit"})


def test_ticket_not_found(client, buyer, auth, held):
    expected = (404, {"message": "Ticket not found", "code": "ticket_not_found"})

    assert answer(client.get(f"/tickets/{ObjectId()}", headers=buyer)) == expected
    assert answer(client.get(f"/tickets/{held['_id']}", headers=auth.user_headers())) == expected
    assert answer(pay(client, buyer, {"_id": str(ObjectId()), "amount": 100})) == expected


# Payment


def test_amount_mismatch_says_the_amount_expected(client, buyer, held):
    assert answer(pay(client, buyer, held, amount=1)) == (400, {"message": "Amount does not match",
                                                                "code": "amount_mismatch", "expected": 5000})


def test_already_paid(client, buyer, held):
    pay(client, buyer, held)

    assert answer(pay(client, buyer, held)) == (409, {"message": "Ticket already paid", "code": "already_paid"})


def test_free_ticket(client, events, buyer):
    ticket = reserve(client, buyer, events.create(price=0)).json

    assert answer(pay(client, buyer, ticket)) == (409, {"message": "Free tickets need no payment",
                                                        "code": "free_ticket"})


def test_hold_expired(client, buyer, held, database):
    lapse(database, held)

    assert answer(pay(client, buyer, held)) == (409, {"message": "Hold expired", "code": "hold_expired"})


def test_payment_in_progress(client, buyer, held, database):
    database.tickets.update_one({"_id": db_id(held)}, {"$set": {"chargingSince": utcnow()}})

    assert answer(pay(client, buyer, held)) == (409, {"message": "A payment for this ticket is already in progress",
                                                      "code": "payment_in_progress"})


def test_card_declined(client, buyer, held):
    assert answer(pay(client, buyer, held, token="pm_card_chargeDeclined")) == (402, {
        "message": "Your card was declined.", "code": "card_declined", "declineCode": "generic_decline"})


def test_too_many_attempts(client, buyer, held):
    for _ in range(5):
        pay(client, buyer, held, token="pm_card_chargeDeclined")

    assert answer(pay(client, buyer, held, token=VISA)) == (429, {
        "message": "Too many declined payment attempts: try again in an hour", "code": "too_many_attempts"})


def test_payment_refused(client, buyer, held):
    assert answer(pay(client, buyer, held, token="pm_card_doesNotExist")) == (400, {
        "message": "Stripe refused the request", "code": "payment_refused"})


def test_payment_provider_unavailable(make_app, buyer, held):
    nowhere = make_app(STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}", STRIPE_TIMEOUT_SECONDS=1).test_client()

    assert answer(pay(nowhere, buyer, held)) == (502, {"message": "Payment provider unavailable",
                                                       "code": "payment_provider_unavailable"})


def test_invalid_webhook_is_invalid_data(client):
    response = client.post("/payment/webhook", json={"type": "payment_intent.succeeded"})

    assert answer(response) == (400, {"message": "Invalid webhook signature or payload", "code": "invalid_data"})


# Idempotency-Key


def test_idempotency_key_reused(client, buyer, held):
    headers = {**buyer, "Idempotency-Key": "k1"}
    pay(client, headers, held, amount=1)

    assert answer(pay(client, headers, held)) == (400, {
        "message": "This Idempotency-Key was used for a different request", "code": "idempotency_key_reused"})


def test_idempotency_key_in_use(client, buyer, held, database):
    headers = {**buyer, "Idempotency-Key": "k1"}
    pay(client, headers, held, amount=1)
    database.idempotency_keys.update_one({}, {"$unset": {"status": "", "body": ""}})  # as if still running

    assert answer(pay(client, headers, held, amount=1)) == (409, {
        "message": "A request with this Idempotency-Key is still running", "code": "idempotency_key_in_use"})


def test_an_idempotency_key_too_long_is_invalid_data(client, buyer, held):
    response = pay(client, {**buyer, "Idempotency-Key": "k" * 256}, held)

    assert answer(response) == (400, {"message": "Idempotency-Key must be at most 255 characters",
                                      "code": "invalid_data"})


@pytest.mark.parametrize("body, code", [({"amount": 1}, "amount_mismatch"), ({"ticketId": "x"}, "invalid_data"),
                                        ({"token": "pm_card_chargeDeclined"}, "card_declined")])
def test_a_replayed_error_keeps_its_code(client, buyer, held, body, code):
    headers = {**buyer, "Idempotency-Key": "k1"}
    first = pay(client, headers, held, **body)

    replayed = pay(client, headers, held, **body)

    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert answer(replayed) == answer(first)
    assert replayed.json["code"] == code


# The OpenAPI document


def api_errors():
    """Every `ApiError` class (subclasses of subclasses too)."""
    found, pending = [], [ApiError]
    while pending:
        error = pending.pop()
        pending.extend(error.__subclasses__())
        found.append(error)
    return found


def examples(response):
    return [example["value"] for example in response["content"]["application/json"]["examples"].values()]


def codes(response):
    return response["content"]["application/json"]["schema"]["properties"]["code"]["enum"]


def test_every_documented_error_lists_its_codes_and_shows_each(client):
    """Each status's `code` is the enum of the codes of its examples, each one a code a
    reply carries, with the message its class gives it: `bp.error(409, SomeError.message)`
    for an error that has a class of its own would show the status's code (`conflict`),
    not the class's (`bp.raises(SomeError)` shows it)."""
    spec = client.get("/openapi.json").json
    documented = list(error_responses(spec))
    made = set(CODES_BY_STATUS.values()) | {error.code for error in api_errors()} | {"database_unavailable"}
    code_of_message = {(error.status_code, error.message): error.code for error in api_errors()
                       if error.code and error.message != INVALID_DATA}  # validation's too: InvalidJson's

    assert len(documented) > 60
    for path, method, status, response in documented:
        shown = examples(response)
        assert codes(response) == list(dict.fromkeys(example["code"] for example in shown)), (path, method, status)
        for example in shown:
            assert example["code"] in made, (path, method, status, example)
            assert example["message"], (path, method, status, example)
            key = (int(status), example["message"]) if status != "default" else None
            assert example["code"] == code_of_message.get(key, example["code"]), (path, method, status, example)


def test_the_examples_are_the_bodies_the_routes_answer(client):
    spec = client.get("/openapi.json").json
    shown = {(path, method, status): examples(response) for path, method, status, response in error_responses(spec)}

    assert shown["/tickets", "post", "409"] == [
        {"message": "Sold out", "code": "sold_out"},
        {"message": "No more seats for this account: the event's limit per account is reached",
         "code": "seat_limit"},
        {"message": "This event is cancelled", "code": "event_cancelled"}]
    assert shown["/tickets", "post", "401"] == [UNAUTHORIZED]
    assert shown["/events", "post", "403"] == [{"message": "Admins only", "code": "forbidden"}]
    assert shown["/auth/login", "post", "404"] == [{"message": "User not found", "code": "user_not_found"}]
    assert shown["/payment", "post", "402"] == [{"message": "Your card has insufficient funds.",
                                                 "code": "card_declined", "declineCode": "insufficient_funds"}]
    assert shown["/events/{event_id}", "get", "400"] == [
        {"message": "Invalid data", "code": "invalid_data", "errors": {"path": {"event_id": ["Not a valid id."]}}}]
    assert shown["/events", "get", "default"] == [
        {"message": "Internal server error", "code": "internal_error"},
        {"message": "Database unavailable", "code": "database_unavailable"}]
    assert "code" in spec["components"]["schemas"]["Error"]["required"]


def test_the_payment_400s_are_the_payments(client):
    """Not an email's error on a route that takes no email: the validation error of the
    route's own body (`ticketId` and `amount` missing), then each 400 it answers."""
    payment = next(response for path, method, status, response in error_responses(client.get("/openapi.json").json)
                   if (path, method, status) == ("/payment", "post", "400"))

    assert codes(payment) == ["invalid_data", "invalid_json", "amount_mismatch", "payment_refused",
                              "idempotency_key_reused"]
    assert examples(payment)[:3] == [
        {"message": "Invalid data", "code": "invalid_data", "errors": {"json": {
            "ticketId": ["Missing data for required field."], "amount": ["Missing data for required field."]}}},
        {"message": "Invalid data", "code": "invalid_json", "errors": {"json": ["Invalid JSON body."]}},
        {"message": "Amount does not match", "code": "amount_mismatch", "expected": 5000}]


def test_every_validation_example_names_what_its_route_takes(client):
    """Each route's `invalid_data` examples name its own body fields, query parameters or
    path parameters: the examples belong to their route."""
    spec = client.get("/openapi.json").json
    taken = {}
    for path, method, operation in operations(spec):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        schema = spec["components"]["schemas"][body["$ref"].rpartition("/")[2]] if body else {"properties": {}}
        taken[path, method] = {
            "json": set(schema["properties"]),
            "query": {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"},
            "path": {p["name"] for p in spec["paths"][path].get("parameters", [])},
        }

    checked = 0
    for path, method, _, response in error_responses(spec):
        for example in examples(response):
            for place, fields in example.get("errors", {}).items():
                if isinstance(fields, dict):
                    assert set(fields) <= taken[path, method][place], (path, method, example)
                    checked += 1
    assert checked > 20
