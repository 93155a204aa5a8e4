"""Every row of API.md's Events table, through the HTTP client, against the real database.
The list's cache is in `test_event_cache.py`."""


import pytest
from bson import ObjectId

from support import begin, in_days, refused
from ticket_api.events.schemas import EventCreateSchema

EVENT_FIELDS = {
    "_id", "name", "date", "location", "description", "image", "capacity", "price", "currency", "status",
    "maxPerUser", "refundDeadline", "ticketsAvailable", "createdAt", "updatedAt", "__v",
}


def valid_event(**overrides):
    return {"name": "Jazz night", "date": "2097-03-01T20:00:00Z", "capacity": 300, **overrides}


def test_an_admin_creates_an_event(client, auth, database):
    body = valid_event(price=2500, currency="EUR", location="Main hall", description="Trio",
                       image="https://example.com/poster.jpg")

    response = client.post("/events", json=body, headers=auth.admin_headers())

    assert response.status_code == 201
    event = response.json
    assert set(event) == EVENT_FIELDS
    assert event["name"] == "Jazz night"
    assert event["date"] == "2097-03-01T20:00:00.000Z"
    assert event["capacity"] == 300
    assert event["ticketsAvailable"] == 300
    assert event["price"] == 2500
    assert event["currency"] == "eur"
    assert event["image"] == "https://example.com/poster.jpg"
    assert event["__v"] == 0
    assert event["maxPerUser"] == 10
    assert (event["status"], event["refundDeadline"]) == ("scheduled", None)
    stored = database.events.find_one({"_id": ObjectId(event["_id"])})
    assert stored["seatsTaken"] == 0
    assert (stored["status"], stored["refundDeadline"]) == ("scheduled", None)
    assert stored["date"].isoformat() == "2097-03-01T20:00:00+00:00"


def test_optional_event_fields_have_defaults(client, auth):
    response = client.post("/events", json=valid_event(), headers=auth.admin_headers())

    event = response.json
    assert (event["price"], event["currency"], event["location"], event["description"], event["image"]) == (
        0, "usd", "", "", None,
    )


@pytest.mark.parametrize(
    "date, stored",
    [
        ("2097-03-01T20:00:00+02:00", "2097-03-01T18:00:00.000Z"),
        ("2097-03-01T20:00:00", "2097-03-01T20:00:00.000Z"),
        ("2097-03-01T20:00:00.123456-05:30", "2097-03-02T01:30:00.123Z"),
    ],
)
def test_dates_are_converted_to_utc(client, auth, date, stored):
    response = client.post("/events", json=valid_event(date=date), headers=auth.admin_headers())

    assert response.status_code == 201
    assert response.json["date"] == stored


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", ""), ("name", "x" * 201), ("name", 5),
        ("date", "next friday"), ("date", "2097-13-01T00:00:00Z"), ("date", 1767225600),
        ("date", "9999-12-31T23:59:59-05:00"), ("refundDeadline", "0001-01-01T00:00:00+01:00"),
        ("capacity", 0), ("capacity", 1_000_001), ("capacity", "300"), ("capacity", 2.5),
        ("capacity", True), ("capacity", None),
        ("price", -1), ("price", "10"), ("price", 9.99), ("price", 10_000_000),
        ("currency", "EURO"), ("currency", "u$d"), ("currency", 840),
        ("location", "x" * 201), ("description", "x" * 5001),
        ("image", "ftp://example.com/a.jpg"), ("image", "javascript:alert(1)"), ("image", "not a url"),
        *[(field, {"$ne": None}) for field in ("name", "date", "capacity", "price", "currency", "location",
                                                "description", "image")],
        *[(field, {"$gt": ""}) for field in ("name", "date", "capacity")],
    ],
)
def test_invalid_events_are_refused(field, value):
    assert list(refused(EventCreateSchema, valid_event(**{field: value}))) == [field]


def test_invalid_events_are_400_and_store_nothing(client, auth, database):
    response = client.post("/events", json=valid_event(capacity="300"), headers=auth.admin_headers())

    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"
    assert list(response.json["errors"]["json"]) == ["capacity"]
    assert database.events.count_documents({}) == 0


@pytest.mark.parametrize("missing", ["name", "date", "capacity"])
def test_required_event_fields(client, auth, missing):
    body = valid_event()
    del body[missing]

    response = client.post("/events", json=body, headers=auth.admin_headers())

    assert response.status_code == 400
    assert response.json["errors"]["json"] == {missing: ["Missing data for required field."]}


def test_counters_and_ids_cannot_be_set_by_the_body(client, auth, database):
    body = valid_event(capacity=10, seatsTaken=-50, ticketsAvailable=999, _id="5f0000000000000000000000",
                       __v=9, createdAt="2000-01-01T00:00:00Z")

    event = client.post("/events", json=body, headers=auth.admin_headers()).json

    assert event["ticketsAvailable"] == 10
    assert event["_id"] != "5f0000000000000000000000"
    assert event["__v"] == 0
    assert database.events.find_one()["seatsTaken"] == 0


def test_creating_an_event_needs_an_admin(client, auth, database):
    anonymous = client.post("/events", json=valid_event())
    plain_user = client.post("/events", json=valid_event(), headers=auth.user_headers())

    assert anonymous.status_code == 401
    assert anonymous.json == {"message": "Missing or malformed token", "code": "unauthorized"}
    assert plain_user.status_code == 403
    assert plain_user.json == {"message": "Admins only", "code": "forbidden"}
    assert database.events.count_documents({}) == 0


def test_events_are_listed_by_date_with_a_total(client, events, database):
    later = events.create(name="later", date=in_days(20))
    past = begin(database, events.create(name="past", date=in_days(1)), days_ago=3)
    sooner = events.create(name="sooner", date=in_days(2))

    response = client.get("/events")

    assert response.status_code == 200
    assert [event["_id"] for event in response.json] == [past["_id"], sooner["_id"], later["_id"]]
    assert response.headers["X-Total-Count"] == "3"
    assert set(response.json[0]) == EVENT_FIELDS


def test_upcoming_lists_only_events_still_to_come(client, events, database):
    begin(database, events.create(name="past"))
    events.create(name="next", date=in_days(1))

    response = client.get("/events?upcoming=true")

    assert [event["name"] for event in response.json] == ["next"]
    assert response.headers["X-Total-Count"] == "1"


def test_events_are_paginated(client, events):
    names = [events.create(name=f"e{n}", date=in_days(n + 1))["name"] for n in range(5)]

    pages = [client.get(f"/events?limit=2&page={page}") for page in (1, 2, 3, 4)]

    listed = [[event["name"] for event in page.json] for page in pages]
    assert listed == [names[0:2], names[2:4], names[4:], []]
    assert {page.headers["X-Total-Count"] for page in pages} == {"5"}


@pytest.mark.parametrize(
    "query, field",
    [
        ("page=0", "page"), ("page=-1", "page"), ("page=abc", "page"), ("page=1.5", "page"),
        ("limit=0", "limit"), ("limit=501", "limit"), ("limit=ten", "limit"),
        ('page={"$ne": null}', "page"), ('limit={"$gt": 0}', "limit"), ("upcoming=perhaps", "upcoming"),
    ],
)
def test_a_bad_list_query_is_400(client, query, field):
    response = client.get(f"/events?{query}")

    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"
    assert list(response.json["errors"]["query"]) == [field]


def test_bracketed_query_keys_are_not_operators(client, events):
    events.create()

    response = client.get("/events?page[$ne]=5&limit[$gt]=0")

    assert response.status_code == 200
    assert len(response.json) == 1


def test_one_event(client, events):
    event = events.create()

    response = client.get(f"/events/{event['_id']}")

    assert response.status_code == 200
    assert response.json == event


def test_an_unknown_event_is_404(client):
    response = client.get(f"/events/{ObjectId()}")

    assert response.status_code == 404
    assert response.json == {"message": "Event not found", "code": "event_not_found"}


@pytest.mark.parametrize(
    "event_id", ["123", "z" * 24, "%7B%22%24ne%22%3A1%7D", "6b06d3c37bbe849cee143ee7a"]
)
def test_a_malformed_event_id_is_400(client, event_id):
    response = client.get(f"/events/{event_id}")

    assert response.status_code == 400
    assert response.json["errors"] == {"path": {"event_id": ["Not a valid id."]}}
