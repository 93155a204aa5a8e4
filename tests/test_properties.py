"""Property tests (hypothesis): any JSON into any body or query is a 4xx or a success, never
a 5xx and never a stored operator; so is any text that is almost JSON (nested thousands
deep, numbers of thousands of digits, NaN) and any header or query value; and any sequence
of reserve, lapse, pay and refund keeps
`ticketsAvailable = capacity - seats of pending and confirmed tickets >= 0`."""

import json
from urllib.parse import quote_from_bytes

import pytest
from bson import ObjectId
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from support import PASSWORD, documents, in_days, lapse, pages_dropped, refund_at_stripe

OPERATORS = st.sampled_from(["$ne", "$gt", "$regex", "$where", "$exists", "$in", "$expr", "$set"])
# Integers past 64 bits (the driver's limit), and text with what no field should take:
# control characters (C0, C1) and lone UTF-16 surrogates, which no UTF-8 text can hold.
HUGE_INTEGERS = st.sampled_from([2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30, 10**100]) | st.integers(
    min_value=-(10**300), max_value=10**300)
ODD_TEXT = st.text(st.characters(categories=["Cc", "Cs", "Zl", "Zp", "Cf"]) | st.characters(), max_size=30)
SCALARS = (st.none() | st.booleans() | st.integers() | HUGE_INTEGERS | st.floats(allow_nan=False)
           | st.text(max_size=30) | ODD_TEXT)
JSON = st.recursive(
    SCALARS | st.dictionaries(OPERATORS, SCALARS, min_size=1, max_size=2),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)
FIELDS = ["username", "email", "password", "name", "date", "capacity", "price", "currency", "location",
          "description", "image", "eventId", "quantity", "ticketId", "amount", "token", "role", "_id"]
BODIES = JSON | st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=6)
POSTS = ["/auth/signup", "/auth/login", "/events", "/tickets", "/payment", "/auth/logout"]
QUERIES = st.dictionaries(st.sampled_from(["page", "limit", "upcoming", "page[$ne]"]), st.text(max_size=12), max_size=3)
# A query value as raw bytes, percent-encoded: any byte (invalid UTF-8, NUL, CR LF), or a
# number far out of range.
QUERY_VALUES = st.binary(max_size=12).map(quote_from_bytes) | HUGE_INTEGERS.map(str) | st.sampled_from(
    ["9" * 5000, "-1", "0", "NaN", "Infinity", "1e999", "%ED%A0%80"])


def nested(depth, inner, opener):
    closer = {"[": "]", '{"a": ': "}"}[opener]
    return opener * depth + inner + closer * depth


# Text that is almost JSON: nested up to 5,000 deep (in a field or alone), a number of up
# to 5,000 digits, NaN and Infinity, lone surrogates as escapes, a body that stops short.
LITERALS = (st.integers(min_value=1, max_value=5000).map(lambda n: "9" * n)
            | st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", '"\\ud800"', '"\\udfff x"', "0." + "1" * 5000]))
ALMOST_JSON = st.builds(
    lambda field, depth, opener, inner, cut: f'{{"{field}": {nested(depth, inner, opener)}}}'[: -cut or None],
    st.sampled_from(FIELDS), st.integers(min_value=0, max_value=5000), st.sampled_from(["[", '{"a": ']),
    LITERALS | JSON.map(json.dumps), st.integers(min_value=0, max_value=3),
)
FAST = settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def operator_keys(value):
    """Keys starting with `$` anywhere in a stored document."""
    if isinstance(value, dict):
        return [key for key in value if str(key).startswith("$")] + [
            found for item in value.values() for found in operator_keys(item)
        ]
    if isinstance(value, list):
        return [found for item in value for found in operator_keys(item)]
    return []


def test_any_json_body_is_a_4xx_or_a_success_and_stores_no_operator(client, auth, database):
    admin = auth.admin_headers()

    @FAST
    @given(path=st.sampled_from(POSTS), body=BODIES)
    def never_a_5xx(path, body):
        response = client.post(path, json=body, headers=admin)
        assert response.status_code < 500, (path, body, response.json)
        assert response.is_json

    never_a_5xx()
    for name in database.list_collection_names():
        for document in database[name].find():
            assert operator_keys(document) == [], (name, document)


def test_any_almost_json_body_is_a_4xx_or_a_success_and_stores_nothing(client, auth, database):
    admin = auth.admin_headers()
    before = documents(database)

    @FAST
    @given(path=st.sampled_from(POSTS[:-1]), body=ALMOST_JSON)  # not logout: it revokes the admin's token
    def never_a_5xx(path, body):
        response = client.post(path, data=body, content_type="application/json", headers=admin)
        assert response.status_code < 500, (path, body[:200], response.json)
        assert response.is_json

    never_a_5xx()
    # some bodies are valid (a bare number in an unknown field): what they made is an event at most
    assert {name: database[name].count_documents({}) for name in before if name != "events"} == {
        name: count for name, count in before.items() if name != "events"}


VALID_FIELDS = {
    "/auth/signup": ["username", "email", "password"],
    "/auth/login": ["email", "password"],
    "/events": ["name", "date", "capacity", "price", "currency", "location", "description", "image", "maxPerUser",
                "refundDeadline"],
    "/tickets": ["eventId", "quantity"],
    "/payment": ["ticketId", "amount", "token"],
}


@pytest.mark.parametrize(("path", "field"), [(path, name) for path, names in VALID_FIELDS.items() for name in names])
def test_any_value_in_one_field_of_a_valid_request_is_a_4xx_or_a_success(client, auth, events, path, field):
    """Each field of a request that would succeed, replaced by anything: a field's own rule
    (or the base schema's) must refuse what would fail further in (bcrypt, BSON, the driver)."""
    user = auth.signup()
    buyer = auth.user_headers()
    event = events.create(capacity=10_000, price=100)
    valid = {
        "/auth/signup": lambda: {"username": f"u{ObjectId()}"[:30], "email": f"{ObjectId()}@example.com",
                                 "password": PASSWORD},
        "/auth/login": lambda: {"email": user["email"], "password": PASSWORD},
        "/events": lambda: {"name": "Jazz night", "date": in_days(3), "capacity": 10, "price": 100, "currency": "usd",
                            "location": "Main hall", "description": "Doors at 7", "image": "https://example.com/a.jpg",
                            "maxPerUser": 5, "refundDeadline": in_days(2)},
        "/tickets": lambda: {"eventId": event["_id"], "quantity": 1},
        "/payment": lambda: {"ticketId": client.post("/tickets", json={"eventId": events.create(price=100)["_id"]},
                                                     headers=buyer).json["_id"],  # an event each: maxPerUser
                             "amount": 100, "token": "pm_card_visa"},
    }

    @settings(FAST, max_examples=40)
    @given(value=HUGE_INTEGERS | ODD_TEXT | SCALARS | JSON)
    def never_a_5xx(value):
        body = {**valid[path](), field: value}
        headers = events.admin if path == "/events" else {**buyer, "Idempotency-Key": str(ObjectId())}
        response = client.post(path, json=body, headers=headers)
        assert response.status_code < 500, (path, body, response.json)
        assert response.is_json

    never_a_5xx()


@pytest.mark.parametrize("field", VALID_FIELDS["/events"])
def test_any_value_in_one_field_of_an_edit_is_a_4xx_or_a_success(client, auth, events, field):
    """An edit of one field (alone, or beside a valid date or refund deadline, which it is
    then compared with): refused or applied, never a 5xx."""
    event = events.create(capacity=10_000, price=100)
    client.post("/tickets", json={"eventId": event["_id"], "quantity": 2}, headers=auth.user_headers())

    @settings(FAST, max_examples=40)
    @given(value=HUGE_INTEGERS | ODD_TEXT | SCALARS | JSON,
           beside=st.sampled_from([{}, {"date": in_days(4)}, {"refundDeadline": in_days(1)}]))
    def never_a_5xx(value, beside):
        body = {**beside, field: value}
        response = client.patch(f"/events/{event['_id']}", json=body, headers=events.admin)
        assert response.status_code < 500, (body, response.json)
        assert response.is_json

    never_a_5xx()


def test_any_query_value_is_a_4xx_or_a_success(client, auth):
    admin = auth.admin_headers()

    @FAST
    @given(path=st.sampled_from(["/events", "/tickets", "/auth/tickets"]),
           name=st.sampled_from(["page", "limit", "upcoming"]), value=QUERY_VALUES)
    def never_a_5xx(path, name, value):
        response = client.get(f"{path}?{name}={value}", headers=admin)
        assert response.status_code in (200, 400), (path, name, value[:100], response.json)
        assert response.is_json

    never_a_5xx()


def test_any_idempotency_key_is_a_4xx_or_a_success(client, buyer, held):
    @FAST
    @given(key=st.text(st.characters(max_codepoint=0xFF, exclude_characters="\r\n"), min_size=1, max_size=300))
    def never_a_5xx(key):
        response = client.post("/payment", json={"ticketId": held["_id"], "amount": 1},
                               headers={**buyer, "Idempotency-Key": key})
        assert response.status_code < 500, (key, response.json)
        assert response.is_json

    never_a_5xx()


def test_any_query_is_a_4xx_or_a_success(client, auth):
    admin = auth.admin_headers()

    @FAST
    @given(path=st.sampled_from(["/events", "/tickets"]), query=QUERIES)
    def never_a_5xx(path, query):
        response = client.get(path, query_string=query, headers=admin)
        assert response.status_code in (200, 400), (path, query, response.json)

    never_a_5xx()


CAPACITY = 12


def test_seats_always_add_up_whatever_happens(app, client, auth, events, database, stand_in):
    event = events.create(capacity=CAPACITY, price=500)
    buyers = auth.many_user_headers(4)

    class Venue(RuleBasedStateMachine):
        """Buyers reserve, holds lapse, tickets are paid and refunded, in any order: the
        event's counter and each account's count (its `maxPerUser` allowance) always
        agree with the tickets."""

        @initialize()
        def fresh_event(self):
            database.tickets.delete_many({})
            database.holdings.delete_many({})
            database.events.update_one({}, {"$set": {"seatsTaken": 0}})
            pages_dropped(app)
            self.owners = {}

        def tickets(self, status):
            return [t for t in database.tickets.find({"status": status})]

        @rule(buyer=st.sampled_from(range(4)), quantity=st.integers(min_value=1, max_value=4))
        def reserve(self, buyer, quantity):
            response = client.post("/tickets", json={"eventId": event["_id"], "quantity": quantity},
                                   headers=buyers[buyer])
            assert response.status_code in (201, 409), response.json
            if response.status_code == 201:
                self.owners[response.json["_id"]] = buyers[buyer]

        @rule(data=st.data())
        def lapse(self, data):
            pending = self.tickets("pending")
            if pending:
                ticket = data.draw(st.sampled_from(pending))
                lapse(database, ticket)

        @rule(data=st.data())
        def pay(self, data):
            pending = self.tickets("pending")
            if pending:
                ticket = data.draw(st.sampled_from(pending))
                owner = self.owners[str(ticket["_id"])]
                body = {"ticketId": str(ticket["_id"]), "amount": ticket["amount"], "token": "pm_card_visa"}
                assert client.post("/payment", json=body, headers=owner).status_code in (200, 409)

        @rule(data=st.data())
        def refund_in_the_dashboard(self, data):
            confirmed = [t for t in self.tickets("confirmed") if t.get("paymentIntent")]
            if confirmed:
                ticket = data.draw(st.sampled_from(confirmed))
                refunded = refund_at_stripe(stand_in, ticket["paymentIntent"])
                assert client.post("/payment/webhook", **refunded).status_code == 200

        @invariant()
        def seats_add_up(self):
            available = client.get(f"/events/{event['_id']}").json["ticketsAvailable"]
            holding = list(database.tickets.find({"status": {"$in": ["pending", "confirmed"]}}))
            assert available == CAPACITY - sum(t["quantity"] for t in holding) >= 0
            per_account = {}
            for ticket in holding:
                per_account[ticket["user"]] = per_account.get(ticket["user"], 0) + ticket["quantity"]
            counted = {h["_id"]["user"]: h["seats"] for h in database.holdings.find() if h["seats"]}
            assert counted == per_account

    run_state_machine_as_test(
        Venue, settings=settings(max_examples=25, stateful_step_count=15, deadline=None, database=None,
                                 suppress_health_check=list(HealthCheck)),
    )
