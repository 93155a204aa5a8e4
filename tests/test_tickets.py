"""Every row of API.md's Tickets table, through the HTTP client, against the real database.
How holds lapse is in `test_holds.py`; what requests cost in `test_ticket_queries.py`."""

from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from support import bearer, begin, parse_time, refused, reserve
from ticket_api.tickets.schemas import TicketCreateSchema

TICKET_FIELDS = {
    "_id", "event", "user", "quantity", "amount", "currency", "status", "expiresAt", "refundedAmount", "createdAt",
    "updatedAt", "__v", "paidWith", "code", "checkedInAt",
}


def test_a_paid_event_is_held_pending(client, auth, events, database):
    event = events.create(capacity=10, price=2500)
    headers = auth.user_headers()
    before = datetime.now(UTC)

    response = reserve(client, headers, event, quantity=3)

    assert response.status_code == 201
    ticket = response.json
    assert set(ticket) == TICKET_FIELDS
    assert ticket["status"] == "pending"
    assert ticket["quantity"] == 3
    assert ticket["amount"] == 7500
    assert ticket["currency"] == "usd"
    assert ticket["event"]["_id"] == event["_id"]
    assert ticket["event"]["ticketsAvailable"] == 7
    assert ticket["__v"] == 0
    hold = parse_time(ticket["expiresAt"]) - before
    assert timedelta(minutes=15) - timedelta(seconds=5) < hold <= timedelta(minutes=15, seconds=1)
    me = client.get("/auth/tickets", headers=headers).json[0]
    assert ticket["user"] == me["user"]
    assert database.tickets.count_documents({}) == 1


def test_a_free_event_is_confirmed_at_once(client, auth, events):
    event = events.create(price=0)

    ticket = reserve(client, auth.user_headers(), event).json

    assert ticket["status"] == "confirmed"
    assert ticket["expiresAt"] is None
    assert ticket["amount"] == 0
    assert ticket["quantity"] == 1


def test_fewer_seats_left_than_asked_is_409_sold_out(client, auth, events, database):
    event = events.create(capacity=5)
    headers = auth.user_headers()
    assert reserve(client, headers, event, quantity=3).status_code == 201

    too_many = reserve(client, headers, event, quantity=3)
    the_rest = reserve(client, headers, event, quantity=2)
    none_left = reserve(client, headers, event, quantity=1)

    assert too_many.status_code == 409
    assert too_many.json == {"message": "Sold out", "code": "sold_out"}
    assert the_rest.status_code == 201
    assert none_left.status_code == 409
    assert client.get(f"/events/{event['_id']}").json["ticketsAvailable"] == 0
    assert database.tickets.count_documents({}) == 2


def test_an_event_already_started_is_400(client, auth, events, database):
    event = begin(database, events.create())

    response = reserve(client, auth.user_headers(), event)

    assert response.status_code == 400
    assert response.json == {"message": "Event already started", "code": "event_started"}
    assert database.tickets.count_documents({}) == 0


def test_an_unknown_event_is_404(client, auth):
    response = client.post("/tickets", json={"eventId": str(ObjectId())}, headers=auth.user_headers())

    assert response.status_code == 404
    assert response.json == {"message": "Event not found", "code": "event_not_found"}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"quantity": 0}, "quantity"), ({"quantity": 11}, "quantity"), ({"quantity": "2"}, "quantity"),
        ({"quantity": 2.5}, "quantity"), ({"quantity": True}, "quantity"), ({"quantity": None}, "quantity"),
        ({"quantity": {"$gt": 0}}, "quantity"), ({"quantity": {"$ne": None}}, "quantity"),
        ({"eventId": "123"}, "eventId"), ({"eventId": 5}, "eventId"), ({"eventId": None}, "eventId"),
        ({"eventId": {"$ne": None}}, "eventId"), ({"eventId": {"$regex": ".*"}}, "eventId"),
        ({"eventId": {"$gt": ""}}, "eventId"), ({"eventId": ["x"]}, "eventId"),
    ],
)
def test_bad_reservations_are_refused(body, field):
    assert list(refused(TicketCreateSchema, {"eventId": "6b06d3c37bbe849cee143ee7", **body})) == [field]


def test_bad_reservations_are_400_and_change_nothing(client, auth, events, database):
    event = events.create(capacity=5)

    response = client.post("/tickets", json={"eventId": event["_id"], "quantity": {"$gt": 0}},
                           headers=auth.user_headers())

    assert response.status_code == 400
    assert list(response.json["errors"]["json"]) == ["quantity"]
    assert database.tickets.count_documents({}) == 0
    assert database.events.find_one()["seatsTaken"] == 0


def test_reserving_needs_a_token(client, events):
    response = client.post("/tickets", json={"eventId": events.create()["_id"]})

    assert response.status_code == 401


def test_the_user_cannot_be_chosen_by_the_body(client, auth, events):
    event = events.create()
    victim = auth.signup()

    forged = {"user": victim["_id"], "status": "confirmed", "amount": 1}
    ticket = reserve(client, auth.user_headers(), event, **forged).json

    assert ticket["user"] != victim["_id"]
    assert ticket["status"] == "pending"
    assert ticket["amount"] == 2500


def test_a_failed_ticket_insert_gives_the_seats_back(client, auth, events, database, fail_point):
    event = events.create(capacity=5)
    headers = auth.user_headers()
    fail_point("insert")

    response = reserve(client, headers, event, quantity=2)

    assert response.status_code == 500
    assert response.json == {"message": "Internal server error", "code": "internal_error"}
    assert database.tickets.count_documents({}) == 0
    assert database.events.find_one()["seatsTaken"] == 0


def test_the_owner_and_admins_see_a_ticket(client, auth, events):
    owner = auth.user_headers()
    ticket = reserve(client, owner, events.create()).json

    as_owner = client.get(f"/tickets/{ticket['_id']}", headers=owner)
    as_admin = client.get(f"/tickets/{ticket['_id']}", headers=events.admin)

    assert as_owner.status_code == 200
    assert as_owner.json == ticket
    assert as_admin.status_code == 200


def test_someone_elses_ticket_is_404(client, auth, events):
    ticket = reserve(client, auth.user_headers(), events.create()).json

    response = client.get(f"/tickets/{ticket['_id']}", headers=auth.user_headers())

    assert response.status_code == 404
    assert response.json == {"message": "Ticket not found", "code": "ticket_not_found"}


@pytest.mark.parametrize("ticket_id, status", [(str(ObjectId()), 404), ("nope", 400), ("0" * 25, 400)])
def test_unknown_and_malformed_ticket_ids(client, auth, ticket_id, status):
    response = client.get(f"/tickets/{ticket_id}", headers=auth.user_headers())

    assert response.status_code == status


def test_admins_list_every_ticket_newest_first(client, auth, events):
    event = events.create()
    ids = [reserve(client, auth.user_headers(), event).json["_id"] for _ in range(3)]

    response = client.get("/tickets", headers=events.admin)
    page = client.get("/tickets?limit=2&page=2", headers=events.admin)

    assert response.status_code == 200
    assert [ticket["_id"] for ticket in response.json] == ids[::-1]
    assert response.json[0]["event"]["_id"] == event["_id"]
    assert response.headers["X-Total-Count"] == "3"
    assert [ticket["_id"] for ticket in page.json] == [ids[0]]


@pytest.mark.parametrize("query", ["page=0", "limit=501", 'limit={"$ne":1}'])
def test_a_bad_ticket_list_query_is_400(client, events, query):
    assert client.get(f"/tickets?{query}", headers=events.admin).status_code == 400


def test_listing_every_ticket_needs_an_admin(client, auth):
    assert client.get("/tickets").status_code == 401
    assert client.get("/tickets", headers=auth.user_headers()).json == {"message": "Admins only", "code": "forbidden"}


def test_my_tickets_are_mine_newest_first_with_their_events(client, auth, events):
    first_event = events.create(name="first")
    second_event = events.create(name="second", price=0)
    mine = auth.user_headers()
    reserve(client, auth.user_headers(), first_event)
    older = reserve(client, mine, first_event).json
    newer = reserve(client, mine, second_event).json

    response = client.get("/auth/tickets", headers=mine)

    assert [ticket["_id"] for ticket in response.json] == [newer["_id"], older["_id"]]
    assert [ticket["event"]["name"] for ticket in response.json] == ["second", "first"]


def test_a_token_that_outlived_its_user_takes_no_seats(client, auth, events, database):
    event = events.create(capacity=5)
    user = auth.signup()
    headers = bearer(auth.login(user["email"]))
    database.users.delete_one({"_id": ObjectId(user["_id"])})

    response = reserve(client, headers, event, quantity=2)

    assert response.status_code == 404
    assert response.json == {"message": "User not found", "code": "user_not_found"}
    assert database.tickets.count_documents({}) == 0
    assert database.events.find_one()["seatsTaken"] == 0
