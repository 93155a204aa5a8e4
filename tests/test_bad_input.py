"""Never a 500 for bad input (API.md, "Conventions"): whatever a stranger or a slip sends
in a body, a query or an id is a 4xx JSON reply, and nothing is stored."""

import marshmallow as ma
import pytest

from support import documents, in_days
from ticket_api.events.schemas import EventCreateSchema

DEEP = "[" * 5000 + "]" * 5000
NOT_JSON_BODIES = {
    "nested 5,000 deep": DEEP,
    "a field nested 5,000 deep": '{"name": ' + DEEP + "}",
    "a field nested 40 deep": '{"name": ' + "[" * 40 + "]" * 40 + "}",
    "objects nested 40 deep": '{"a": ' * 40 + "1" + "}" * 40,
    "an integer of 5,000 digits": '{"capacity": ' + "9" * 5000 + "}",
    "an integer of 1,001 digits (Python's own limit is 4,300)": '{"capacity": ' + "9" * 1001 + "}",
    "a float of 5,000 digits": '{"capacity": 0.' + "9" * 5000 + "}",
    "NaN": '{"amount": NaN}',
    "Infinity": '{"amount": Infinity}',
    "-Infinity": '{"amount": -Infinity}',
    "a float that overflows to infinity": '{"amount": 1e999}',
    "a lone surrogate in a value": '{"password": "abc\\ud800defghij"}',
    "a lone low surrogate": '{"name": "\\udfff"}',
    "a lone surrogate in a key": '{"\\ud83d": 1}',
    "not UTF-8": b'{"name": "\xff\xfe"}',
}
POSTS = ["/auth/signup", "/auth/login", "/events", "/tickets", "/payment"]


@pytest.fixture
def admin(auth):
    return auth.admin_headers()


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize("body", NOT_JSON_BODIES.values(), ids=NOT_JSON_BODIES.keys())
def test_a_body_json_cannot_carry_into_our_fields_is_400_and_stores_nothing(client, database, admin, path, body):
    before = documents(database)

    response = client.post(path, data=body, content_type="application/json", headers=admin)

    assert response.status_code == 400, response.json
    assert response.json == {"message": "Invalid data", "code": "invalid_json",
                             "errors": {"json": ["Invalid JSON body."]}}
    assert documents(database) == before


@pytest.mark.parametrize("body", [DEEP, '{"amount": NaN}', '{"token": "\\ud800"}'])
def test_a_bad_body_under_an_idempotency_key_is_400(client, database, buyer, body):
    """The key's fingerprint reads the body with Flask's `get_json`, before the route's parser."""
    response = client.post("/payment", data=body, content_type="application/json",
                           headers={**buyer, "Idempotency-Key": "k1"})

    assert response.status_code == 400, response.json
    assert database.payments.count_documents({}) == 0


def test_what_json_allows_is_still_accepted(client, admin):
    body = ('{"name": "Caf\\u00e9 \\ud83c\\udfb7", "date": "' + in_days(3) + '", "capacity": 1.0e2, '
            '"price": 0, "description": "Doors 7pm\\nShow 8pm\\tSeated", "tags": [[[[[1]]]]]}')

    response = client.post("/events", data=body, content_type="application/json", headers=admin)

    assert response.status_code == 400  # 1.0e2 is not an integer (API.md): refused, not truncated
    assert set(response.json["errors"]["json"]) == {"capacity"}
    fixed = client.post("/events", data=body.replace("1.0e2", "100"), content_type="application/json",
                        headers=admin)
    assert fixed.status_code == 201, fixed.json
    assert fixed.json["name"] == "Café 🎷"
    assert fixed.json["description"] == "Doors 7pm\nShow 8pm\tSeated"


def test_a_deep_body_is_400_on_login_with_its_rate_limit_on(make_app):
    """The login limit reads the email from the body (Flask's `get_json`) before the route."""
    client = make_app(RATELIMIT_ENABLED=True).test_client()

    response = client.post("/auth/login", data=DEEP, content_type="application/json")

    assert response.status_code == 400, response.json


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None])
def test_a_body_not_sent_as_json_is_415(client, database, content_type):
    body = '{"username": "ada", "email": "ada@example.com", "password": "correct horse battery"}'

    response = client.post("/auth/signup", data=body, content_type=content_type)

    assert response.status_code == 415, response.json
    assert response.json == {"message": "Send the body as JSON (Content-Type: application/json)",
                             "code": "unsupported_media_type"}
    assert database.users.count_documents({}) == 0


def test_no_body_at_all_is_the_missing_fields(client, buyer):
    response = client.post("/tickets", headers=buyer)

    assert response.status_code == 400
    assert response.json["errors"] == {"json": {"eventId": ["Missing data for required field."]}}


@pytest.mark.parametrize("field", ["amount"])
@pytest.mark.parametrize("value", [2**63, 10**30, -(2**63) - 1])
def test_an_amount_beyond_64_bits_is_400_and_charges_nothing(client, database, buyer, held, field, value):
    response = client.post("/payment", json={"ticketId": held["_id"], field: value, "token": "pm_card_visa"},
                           headers={**buyer, "Idempotency-Key": "k1"})

    assert response.status_code == 400, response.json
    assert list(response.json["errors"]["json"]) == [field]
    assert database.payments.count_documents({}) == 0
    assert database.tickets.find_one()["status"] == "pending"


@pytest.mark.parametrize("quantity", [2**64, 2**63, -(2**64)])
def test_a_quantity_beyond_64_bits_is_400(client, database, buyer, event, quantity):
    response = client.post("/tickets", json={"eventId": event["_id"], "quantity": quantity}, headers=buyer)

    assert response.status_code == 400, response.json
    assert list(response.json["errors"]["json"]) == ["quantity"]
    assert database.tickets.count_documents({}) == 0


@pytest.mark.parametrize("field", ["capacity", "price"])
@pytest.mark.parametrize("value", [10**100, 2**63, -(10**100)])
def test_a_huge_capacity_or_price_is_400(client, database, admin, field, value):
    body = {"name": "Jazz night", "date": in_days(3), "capacity": 10, field: value}

    response = client.post("/events", json=body, headers=admin)

    assert response.status_code == 400, response.json
    assert list(response.json["errors"]["json"]) == [field]
    assert database.events.count_documents({}) == 0


@pytest.mark.parametrize("field", ["name", "location", "currency"])
@pytest.mark.parametrize("text", ["Jazz\nnight", "Jazz\r\nnight", "Jazz\x00", "\x1b[31mred", "Jazz\x85", "tab\there"])
def test_control_characters_in_a_one_line_text_are_400(client, database, admin, field, text):
    body = {"name": "Jazz night", "date": in_days(3), "capacity": 10, field: text}

    response = client.post("/events", json=body, headers=admin)

    assert response.status_code == 400, response.json
    assert list(response.json["errors"]["json"]) == [field]
    assert database.events.count_documents({}) == 0


@pytest.mark.parametrize("text", ["\x00", "a\x1b[2Jb", "\x7f", "\x9b"])
def test_a_description_takes_line_breaks_but_no_other_control_character(client, admin, text):
    body = {"name": "Jazz night", "date": in_days(3), "capacity": 10, "description": text}

    response = client.post("/events", json=body, headers=admin)

    assert response.status_code == 400, response.json
    assert list(response.json["errors"]["json"]) == ["description"]


@pytest.mark.parametrize("fields", [{"password": "correct\x00horse"}, {"password": "correct horse\x07"},
                                    {"username": "ada\x00"}, {"email": "ada@example.com\n"}])
def test_control_characters_in_signup_are_400(client, database, fields):
    body = {"username": "ada", "email": "ada@example.com", "password": "correct horse battery", **fields}

    response = client.post("/auth/signup", json=body)

    assert response.status_code == 400, response.json
    assert list(response.json["errors"]["json"]) == list(fields)
    assert database.users.count_documents({}) == 0


@pytest.mark.parametrize("query", [
    "page=99999999999999999999", "page=-1", "page=0", "page=" + "9" * 5000, "page=1e3", "page=%ED%A0%80",
    "page=%00", "limit=NaN", "limit=Infinity", "limit=-5", "limit=1.5",
])
@pytest.mark.parametrize("path", ["/events", "/tickets"])
def test_a_bad_query_is_400(client, admin, path, query):
    response = client.get(f"{path}?{query}", headers=admin)

    assert response.status_code == 400, response.json
    assert "query" in response.json["errors"]


@pytest.mark.parametrize("query", ["upcoming=%00", "upcoming=maybe", "upcoming=%ED%A0%80"])
def test_a_bad_upcoming_is_400(client, query):
    response = client.get(f"/events?{query}")

    assert response.status_code == 400, response.json
    assert list(response.json["errors"]["query"]) == ["upcoming"]


@pytest.mark.parametrize("path", [
    "/events/zzzzzzzzzzzzzzzzzzzzzzzz", "/events/6b06d3c37bbe849cee143ee", "/events/6b06d3c37bbe849cee143ee7a",
    "/events/%ED%A0%80", "/events/%00", "/tickets/abcdefghijkl", "/tickets/6b06d3c37bbe849cee143eeg",
])
def test_an_id_that_only_looks_like_one_is_400(client, admin, path):
    response = client.get(path, headers=admin)

    assert response.status_code == 400, response.json
    assert response.json["message"] == "Invalid data"


@pytest.mark.parametrize("event_id", ["zzzzzzzzzzzzzzzzzzzzzzzz", "abcdefghijkl", 12, None,
                                      ["6b06d3c37bbe849cee143ee7"], {"$oid": "6b06d3c37bbe849cee143ee7"}])
def test_an_event_id_that_is_not_one_is_400(client, database, buyer, event_id):
    response = client.post("/tickets", json={"eventId": event_id}, headers=buyer)

    assert response.status_code == 400, response.json
    assert list(response.json["errors"]["json"]) == ["eventId"]
    assert database.tickets.count_documents({}) == 0


@pytest.mark.parametrize("text", ["\ud800", "Jazz \udfff night"])
def test_a_text_field_refuses_a_lone_surrogate_from_wherever_it_comes(text):
    """The JSON parser refuses it first; a field still refuses one given to it otherwise."""
    EventCreateSchema()  # an instance made before adds no second check to the next (once each)
    with pytest.raises(ma.ValidationError) as refused:
        EventCreateSchema().load({"name": text, "date": in_days(3), "capacity": 10})

    assert refused.value.messages == {"name": ["Not valid Unicode text (a lone surrogate)."]}
