"""Property tests (hypothesis): any JSON into any body or query is a 4xx or a success, never
a 5xx and never a stored operator; and any sequence of reserve, lapse, pay and refund keeps
`ticketsAvailable = capacity - seats of pending and confirmed tickets >= 0`."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from support import lapse, refund_at_stripe

OPERATORS = st.sampled_from(["$ne", "$gt", "$regex", "$where", "$exists", "$in", "$expr", "$set"])
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
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


def test_any_query_is_a_4xx_or_a_success(client, auth):
    admin = auth.admin_headers()

    @FAST
    @given(path=st.sampled_from(["/events", "/tickets"]), query=QUERIES)
    def never_a_5xx(path, query):
        response = client.get(path, query_string=query, headers=admin)
        assert response.status_code in (200, 400), (path, query, response.json)

    never_a_5xx()


CAPACITY = 12


def test_seats_always_add_up_whatever_happens(client, auth, events, database, stand_in):
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
        def refund_at_stripe(self, data):
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
