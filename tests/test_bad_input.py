"""Never a 500 for bad input (API.md, "Conventions"): whatever a stranger or a slip sends
in a body, a query or an id is a 4xx JSON reply, and nothing is stored."""

import json

import marshmallow as ma
import pytest

from support import documents, in_days, refused
from ticket_api.auth.schemas import SignupSchema
from ticket_api.events.schemas import EventCreateSchema
from ticket_api.extensions import loads
from ticket_api.payments.schemas import PaymentSchema
from ticket_api.tickets.schemas import TicketCreateSchema

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


@pytest.mark.parametrize("body", NOT_JSON_BODIES.values(), ids=NOT_JSON_BODIES.keys())
def test_the_parser_refuses_a_body_json_cannot_carry_into_our_fields(body):
    """`extensions.loads`, which reads every body (the routes' parser and Flask's `get_json`)."""
    with pytest.raises(json.JSONDecodeError):
        loads(body)


@pytest.mark.parametrize("path", POSTS)
def test_a_body_json_cannot_carry_into_our_fields_is_400_and_stores_nothing(client, database, admin, subtests, path):
    for case, body in NOT_JSON_BODIES.items():
        with subtests.test(case):
            before = documents(database)

            response = client.post(path, data=body, content_type="application/json", headers=admin)

            assert response.status_code == 400, response.json
            assert response.json == {"message": "Invalid data", "code": "invalid_json",
                                     "errors": {"json": ["Invalid JSON body."]}}
            assert documents(database) == before


def test_a_bad_body_under_an_idempotency_key_is_400(client, database, buyer, subtests):
    """The key's fingerprint reads the body with Flask's `get_json`, before the route's parser."""
    for body in [DEEP, '{"amount": NaN}', '{"token": "\\ud800"}']:
        with subtests.test(body[:20]):
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


def test_a_body_not_sent_as_json_is_415(client, database, subtests):
    body = '{"username": "ada", "email": "ada@example.com", "password": "correct horse battery"}'
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "application/xml", None]:
        with subtests.test(str(content_type)):
            response = client.post("/auth/signup", data=body, content_type=content_type)

            assert response.status_code == 415, response.json
            assert response.json == {"message": "Send the body as JSON (Content-Type: application/json)",
                                     "code": "unsupported_media_type"}
            assert database.users.count_documents({}) == 0


def test_no_body_at_all_is_the_missing_fields(client, buyer):
    response = client.post("/tickets", headers=buyer)

    assert response.status_code == 400
    assert response.json["errors"] == {"json": {"eventId": ["Missing data for required field."]}}


def event_body(**fields):
    return {"name": "Jazz night", "date": in_days(3), "capacity": 10, **fields}


AN_ID = "6b06d3c37bbe849cee143ee7"
BEYOND_64_BITS = [2**63, 10**30, -(2**63) - 1]


@pytest.mark.parametrize("value", BEYOND_64_BITS)
def test_an_amount_beyond_64_bits_is_refused(value):
    assert list(refused(PaymentSchema, {"ticketId": AN_ID, "amount": value, "token": "pm_card_visa"})) == ["amount"]


def test_an_amount_beyond_64_bits_is_400_and_charges_nothing(client, database, buyer, held):
    response = client.post("/payment", json={"ticketId": held["_id"], "amount": 2**63, "token": "pm_card_visa"},
                           headers={**buyer, "Idempotency-Key": "k1"})

    assert response.status_code == 400, response.json
    assert list(response.json["errors"]["json"]) == ["amount"]
    assert database.payments.count_documents({}) == 0
    assert database.tickets.find_one()["status"] == "pending"


@pytest.mark.parametrize("quantity", [2**64, 2**63, -(2**64)])
def test_a_quantity_beyond_64_bits_is_refused(quantity):
    assert list(refused(TicketCreateSchema, {"eventId": AN_ID, "quantity": quantity})) == ["quantity"]


def test_a_quantity_beyond_64_bits_is_400(client, database, buyer, event):
    response = client.post("/tickets", json={"eventId": event["_id"], "quantity": 2**64}, headers=buyer)

    assert response.status_code == 400, response.json
    assert list(response.json["errors"]["json"]) == ["quantity"]
    assert database.tickets.count_documents({}) == 0


@pytest.mark.parametrize("field", ["capacity", "price"])
@pytest.mark.parametrize("value", [10**100, 2**63, -(10**100)])
def test_a_huge_capacity_or_price_is_refused(field, value):
    assert list(refused(EventCreateSchema, event_body(**{field: value}))) == [field]


@pytest.mark.parametrize("field", ["name", "location", "currency"])
@pytest.mark.parametrize("text", ["Jazz\nnight", "Jazz\r\nnight", "Jazz\x00", "\x1b[31mred", "Jazz\x85", "tab\there"])
def test_control_characters_in_a_one_line_text_are_refused(field, text):
    assert list(refused(EventCreateSchema, event_body(**{field: text}))) == [field]


@pytest.mark.parametrize("text", ["\x00", "a\x1b[2Jb", "\x7f", "\x9b"])
def test_a_description_takes_line_breaks_but_no_other_control_character(text):
    assert list(refused(EventCreateSchema, event_body(description=text))) == ["description"]


@pytest.mark.parametrize("field, value", [("capacity", 10**100), ("location", "Jazz\x00"), ("description", "\x7f")])
def test_a_refused_event_field_is_400_and_stores_nothing(client, database, admin, field, value):
    response = client.post("/events", json=event_body(**{field: value}), headers=admin)

    assert response.status_code == 400, response.json
    assert list(response.json["errors"]["json"]) == [field]
    assert database.events.count_documents({}) == 0


SIGNUP = {"username": "ada", "email": "ada@example.com", "password": "correct horse battery"}


@pytest.mark.parametrize("fields", [{"password": "correct\x00horse"}, {"password": "correct horse\x07"},
                                    {"username": "ada\x00"}, {"email": "ada@example.com\n"}])
def test_control_characters_in_signup_are_refused(fields):
    assert list(refused(SignupSchema, {**SIGNUP, **fields})) == list(fields)


def test_control_characters_in_signup_are_400(client, database):
    response = client.post("/auth/signup", json={**SIGNUP, "username": "ada\x00"})

    assert response.status_code == 400, response.json
    assert list(response.json["errors"]["json"]) == ["username"]
    assert database.users.count_documents({}) == 0


BAD_QUERIES = [
    "page=99999999999999999999", "page=-1", "page=0", "page=" + "9" * 5000, "page=1e3", "page=%ED%A0%80",
    "page=%00", "limit=NaN", "limit=Infinity", "limit=-5", "limit=1.5",
]


@pytest.mark.parametrize("path", ["/events", "/tickets"])
def test_a_bad_query_is_400(client, admin, subtests, path):
    """Each query as it arrives, percent-encoded (the request decodes it, then the schema reads it)."""
    for query in BAD_QUERIES:
        with subtests.test(query[:40]):
            response = client.get(f"{path}?{query}", headers=admin)

            assert response.status_code == 400, response.json
            assert "query" in response.json["errors"]


def test_a_bad_upcoming_is_400(client, subtests):
    for query in ["upcoming=%00", "upcoming=maybe", "upcoming=%ED%A0%80"]:
        with subtests.test(query):
            response = client.get(f"/events?{query}")

            assert response.status_code == 400, response.json
            assert list(response.json["errors"]["query"]) == ["upcoming"]


def test_an_id_that_only_looks_like_one_is_400(client, admin, subtests):
    """Each path as it arrives, percent-encoded (the request decodes it, then the rule's converter reads it)."""
    for path in ["/events/zzzzzzzzzzzzzzzzzzzzzzzz", "/events/6b06d3c37bbe849cee143ee",
                 "/events/6b06d3c37bbe849cee143ee7a", "/events/%ED%A0%80", "/events/%00", "/tickets/abcdefghijkl",
                 "/tickets/6b06d3c37bbe849cee143eeg"]:
        with subtests.test(path):
            response = client.get(path, headers=admin)

            assert response.status_code == 400, response.json
            assert response.json["message"] == "Invalid data"


@pytest.mark.parametrize("event_id", ["zzzzzzzzzzzzzzzzzzzzzzzz", "abcdefghijkl", 12, None,
                                      ["6b06d3c37bbe849cee143ee7"], {"$oid": "6b06d3c37bbe849cee143ee7"}])
def test_an_event_id_that_is_not_one_is_refused(event_id):
    assert list(refused(TicketCreateSchema, {"eventId": event_id})) == ["eventId"]


def test_an_event_id_that_is_not_one_is_400(client, database, buyer):
    response = client.post("/tickets", json={"eventId": {"$oid": "6b06d3c37bbe849cee143ee7"}}, headers=buyer)

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
