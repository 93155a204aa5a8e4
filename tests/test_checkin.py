"""`POST /checkin` and `GET /events/<id>/checkins`: a ticket admits once, whoever scans it at
the same moment; a scan retried with its `scanId` is admitted again; every refusal says why;
only door staff and admins scan, and door staff do nothing else staff-only."""

import pytest
from bson import ObjectId

from support import (
    at_once,
    bearer,
    command_on,
    db_id,
    free_port,
    in_days,
    lapse,
    parse_time,
    pay,
    refunds_of,
    reserve,
    seats_taken,
    stored,
)
from ticket_api.db import utcnow
from ticket_api.stores import tickets

UNKNOWN_CODE = {"message": "No ticket has this code", "code": "unknown_code"}
WRONG_EVENT = {"message": "This ticket is for another event", "code": "wrong_event"}
ADMINS_ONLY = "Admins only"
DOOR_STAFF_ONLY = "Door staff and admins only"


def already_in(checked_in_at):
    return {"message": "This ticket was already checked in", "code": "already_checked_in",
            "checkedInAt": checked_in_at}


def not_admissible(status):
    return {"message": f"This ticket does not admit anyone: it is {status}", "code": "not_admissible",
            "status": status}


def scan(client, headers, code, **fields):
    return client.post("/checkin", json={"code": code, **fields}, headers=headers)


def checkins(client, headers, event):
    return client.get(f"/events/{event['_id']}/checkins", headers=headers)


@pytest.fixture
def door(auth):
    return auth.door_headers()


@pytest.fixture
def show(events):
    """A free event: its tickets are confirmed, with their codes, at once."""
    return events.create(capacity=50, price=0, name="Show night")


@pytest.fixture
def fan(auth):
    """A buyer: the account and its headers."""
    user = auth.signup()
    return user, bearer(auth.login(user["email"]))


@pytest.fixture
def ticket(client, show, fan):
    """A confirmed ticket of `fan`'s for `show`: 2 seats."""
    return reserve(client, fan[1], show, quantity=2).json


def test_a_scan_admits_the_ticket_and_says_whose_it_is(client, door, show, fan, ticket, database):
    response = scan(client, door, ticket["code"], eventId=show["_id"], scanId="scan-1")

    assert response.status_code == 200
    user = fan[0]
    checked_in_at = response.json["checkedInAt"]
    assert response.json == {
        "result": "admitted",
        "ticket": {
            "_id": ticket["_id"], "quantity": 2,
            "holder": {"_id": user["_id"], "username": user["username"], "email": user["email"]},
            "event": {"_id": show["_id"], "name": "Show night", "date": show["date"]},
        },
        "checkedInAt": checked_in_at,
    }
    kept = stored(database, ticket)
    assert kept["checkedInAt"] == parse_time(checked_in_at)
    assert kept["scanId"] == "scan-1"
    assert kept["checkedInBy"] == database.users.find_one({"role": "door"})["_id"]
    assert client.get(f"/tickets/{ticket['_id']}", headers=fan[1]).json["checkedInAt"] == checked_in_at


def test_admins_check_in_too_and_the_event_is_optional(client, auth, ticket):
    assert scan(client, auth.admin_headers(), ticket["code"]).json["result"] == "admitted"


def test_a_code_typed_by_hand_is_read_in_any_case(client, door, ticket):
    assert scan(client, door, f"  {ticket['code'].lower()} ").status_code == 200


def test_a_walk_in_ticket_names_its_holder(client, door, show, database):
    walk_in = {"_id": ObjectId(), "event": db_id(show), "user": None, "holder": {"name": "Ada", "email": None},
               "quantity": 3, "status": "confirmed", "code": "WALKIN", "createdAt": utcnow(), "__v": 0}
    database.tickets.insert_one(walk_in)

    response = scan(client, door, "WALKIN")

    assert response.json["ticket"]["holder"] == {"name": "Ada", "email": None}
    assert response.json["ticket"]["quantity"] == 3


def test_a_second_scan_is_told_when_the_first_admitted_it(client, auth, door, ticket):
    first = scan(client, door, ticket["code"], scanId="scan-1")

    again = scan(client, door, ticket["code"], scanId="scan-2")
    without_id = scan(client, door, ticket["code"])
    other_door = scan(client, auth.door_headers(), ticket["code"], scanId="scan-1")  # its own scan-1

    for refused in (again, without_id, other_door):
        assert (refused.status_code, refused.json) == (409, already_in(first.json["checkedInAt"]))


def test_scans_without_a_scan_id_are_never_taken_for_a_retry(client, door, ticket):
    first = scan(client, door, ticket["code"])

    again = scan(client, door, ticket["code"])

    assert (again.status_code, again.json) == (409, already_in(first.json["checkedInAt"]))


def test_a_scan_retried_with_its_scan_id_is_admitted_again(client, door, show, ticket):
    first = scan(client, door, ticket["code"], eventId=show["_id"], scanId="scan-1")

    retried = scan(client, door, ticket["code"], eventId=show["_id"], scanId="scan-1")

    assert (retried.status_code, retried.json) == (200, first.json)
    assert [entry["result"] for entry in checkins(client, door, show).json["recent"]] == ["admitted"]


def test_twenty_scanners_reading_one_code_at_once_admit_it_once(app, door, ticket):
    def scanner(n):
        return lambda: scan(app.test_client(), door, ticket["code"], scanId=f"scanner-{n}")

    responses = at_once(*[scanner(n) for n in range(20)])

    admitted = [response for response in responses if response.status_code == 200]
    assert len(admitted) == 1
    refused = [response.json for response in responses if response.status_code != 200]
    assert refused == [already_in(admitted[0].json["checkedInAt"])] * 19


def test_a_scan_landing_between_anothers_read_and_write_wins_alone(client, door, ticket, spied):
    """Without `checkedInAt: None` in the update's filter, both scans would admit."""
    spied.arm(command_on("find", "tickets"), lambda: scan(client, door, ticket["code"], scanId="second"))

    first = scan(spied.app.test_client(), door, ticket["code"], scanId="first")

    second = spied.outcome()
    assert second.status_code == 200
    assert (first.status_code, first.json) == (409, already_in(second.json["checkedInAt"]))


def test_a_ticket_given_back_between_a_scans_read_and_write_is_refused(client, door, fan, ticket, spied, database):
    """Without `status: "confirmed"` in the update's filter, the cancelled ticket would admit."""
    spied.arm(command_on("find", "tickets"), lambda: client.post(f"/tickets/{ticket['_id']}/cancel", headers=fan[1]))

    response = scan(spied.app.test_client(), door, ticket["code"])

    assert spied.outcome().json["status"] == "cancelled"
    assert (response.status_code, response.json) == (409, not_admissible("cancelled"))
    assert stored(database, ticket).get("checkedInAt") is None


def test_a_scan_between_the_holders_read_and_give_back_keeps_the_ticket(client, door, show, fan, ticket, spied,
                                                                         database):
    """Without `checkedInAt: None` in the holder's give-back filter, a ticket let in would
    be cancelled after and its seats sold again."""
    spied.arm(command_on("find", "tickets"), lambda: scan(client, door, ticket["code"]))

    response = spied.app.test_client().post(f"/tickets/{ticket['_id']}/cancel", headers=fan[1])

    assert spied.outcome().status_code == 200
    assert (response.status_code, response.json) == (409, {"message": "This ticket was used at the door",
                                                           "code": "checked_in"})
    assert stored(database, ticket)["status"] == "confirmed"
    assert seats_taken(database, show) == 2


def pending(client, fan, events, database):
    ticket = reserve(client, fan[1], events.create(capacity=5, price=2500)).json
    return stored(database, ticket)


def expired(client, fan, events, database):
    event = events.create(capacity=5, price=2500)
    ticket = reserve(client, fan[1], event).json
    lapse(database, ticket)
    client.get(f"/events/{event['_id']}")  # releases lapsed holds
    return stored(database, ticket)


def cancelled(client, fan, events, database):
    ticket = reserve(client, fan[1], events.create(capacity=5, price=0)).json
    client.post(f"/tickets/{ticket['_id']}/cancel", headers=fan[1])
    return stored(database, ticket)


def refunded(client, fan, events, database):
    ticket = reserve(client, fan[1], events.create(capacity=5, price=2500)).json
    pay(client, fan[1], ticket)
    client.post(f"/tickets/{ticket['_id']}/cancel", headers=events.admin)
    return stored(database, ticket)


@pytest.mark.parametrize("make", [pending, expired, cancelled, refunded], ids=lambda make: make.__name__)
def test_a_ticket_that_is_not_confirmed_is_refused_with_its_status(client, door, fan, events, database, make):
    ticket = make(client, fan, events, database)
    assert ticket["status"] == make.__name__

    response = scan(client, door, ticket["code"], eventId=str(ticket["event"]))

    assert (response.status_code, response.json) == (409, not_admissible(make.__name__))
    assert stored(database, ticket).get("checkedInAt") is None


def test_a_ticket_for_another_event_is_refused_and_not_admitted(client, door, events, show, ticket, database):
    elsewhere = events.create(capacity=5, name="Another night")

    response = scan(client, door, ticket["code"], eventId=elsewhere["_id"])

    assert (response.status_code, response.json) == (409, WRONG_EVENT)
    assert stored(database, ticket).get("checkedInAt") is None
    assert scan(client, door, ticket["code"], eventId=show["_id"]).status_code == 200
    assert scan(client, door, ticket["code"], eventId=elsewhere["_id"]).json == WRONG_EVENT  # in or not


def test_an_unknown_code_is_a_404(client, door, ticket):
    response = scan(client, door, ticket["code"][:-1])

    assert (response.status_code, response.json) == (404, UNKNOWN_CODE)


@pytest.mark.parametrize("body", [
    {}, {"code": ""}, {"code": "A" * 65}, {"code": 12}, {"code": "ABC\n"},
    {"code": "ABC", "eventId": "nope"}, {"code": "ABC", "scanId": ""}, {"code": "ABC", "scanId": "s" * 65},
])
def test_a_malformed_scan_is_a_400(client, door, body):
    response = client.post("/checkin", json=body, headers=door)

    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"


def test_the_counts_say_seats_expected_and_admitted_and_the_last_scans(client, door, auth, events, show, fan,
                                                                       ticket, database):
    other = reserve(client, auth.user_headers(), show, quantity=3).json
    client.post(f"/tickets/{reserve(client, fan[1], show).json['_id']}/cancel", headers=fan[1])  # not expected
    reserve(client, fan[1], events.create(capacity=5, price=0))  # another event's
    assert checkins(client, door, show).json == {"expected": 5, "admitted": 0, "recent": []}

    admitted = scan(client, door, ticket["code"], scanId="s1").json
    refused = scan(client, door, ticket["code"], eventId=show["_id"]).json
    scan(client, door, "NOSUCHCODE", eventId=show["_id"], scanId="s3")
    scan(client, door, "NOSUCHCODE")  # for no event: filed nowhere
    response = checkins(client, door, show)

    assert response.status_code == 200
    door_id = str(database.users.find_one({"role": "door"})["_id"])
    recent = response.json["recent"]
    assert [{key: value for key, value in entry.items() if key != "at"} for entry in recent] == [
        {"result": "unknown_code", "ticket": None, "quantity": None, "by": door_id, "scanId": "s3"},
        {"result": "already_checked_in", "ticket": ticket["_id"], "quantity": 2, "by": door_id, "scanId": None},
        {"result": "admitted", "ticket": ticket["_id"], "quantity": 2, "by": door_id, "scanId": "s1"},
    ]
    assert recent[2]["at"] == admitted["checkedInAt"]
    assert recent[1]["at"] >= refused["checkedInAt"]
    assert (response.json["expected"], response.json["admitted"]) == (5, 2)
    assert other["status"] == "confirmed"


def test_a_scan_for_the_wrong_event_is_filed_under_the_event_scanned_for(client, door, events, show, ticket):
    elsewhere = events.create(capacity=5, name="Another night")

    scan(client, door, ticket["code"], eventId=elsewhere["_id"])

    assert [entry["result"] for entry in checkins(client, door, elsewhere).json["recent"]] == ["wrong_event"]
    assert checkins(client, door, show).json["recent"] == []


def test_the_last_twenty_scans_newest_first(client, door, show):
    for n in range(25):
        scan(client, door, "NOSUCHCODE", eventId=show["_id"], scanId=f"s{n}")

    recent = checkins(client, door, show).json["recent"]

    assert [entry["scanId"] for entry in recent] == [f"s{n}" for n in range(24, 4, -1)]


def test_the_counts_of_an_unknown_event_are_a_404(client, door):
    missing = client.get(f"/events/{ObjectId()}/checkins", headers=door)

    assert missing.status_code == 404
    assert missing.json["message"] == "Event not found"
    assert client.get("/events/nope/checkins", headers=door).status_code == 400


# Who may scan


def test_only_door_staff_and_admins_scan_and_read_the_counts(client, auth, show, ticket):
    buyer = auth.user_headers()

    for response in (scan(client, buyer, ticket["code"]), checkins(client, buyer, show)):
        assert response.status_code == 403
        assert response.json["message"] == DOOR_STAFF_ONLY
    assert scan(client, {}, ticket["code"]).status_code == 401
    assert checkins(client, {}, show).status_code == 401
    assert checkins(client, auth.admin_headers(), show).status_code == 200


def admin_operations(client):
    """Every operation `/openapi.json` documents as refused to anyone but admins."""
    paths = client.get("/openapi.json").json["paths"]
    return [
        (method, path)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if method in HTTP_METHODS and ADMINS_ONLY in refused_as(operation, 403)
    ]


HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def refused_as(operation, status):
    """The messages of the examples of the operation's documented `status` reply."""
    reply = operation["responses"].get(str(status), {})
    examples = reply.get("content", {}).get("application/json", {}).get("examples", {})
    return [example["value"]["message"] for example in examples.values()]


def test_door_staff_are_refused_every_admin_route(client, auth, door, show, ticket):
    operations = admin_operations(client)
    assert {("post", "/events"), ("patch", "/events/{event_id}"), ("post", "/events/{event_id}/cancel"),
            ("get", "/tickets")} <= set(operations)
    buyer = auth.user_headers()

    for method, path in operations:
        url = path.replace("{event_id}", show["_id"]).replace("{ticket_id}", ticket["_id"])
        for headers in (door, buyer):
            response = client.open(url, method=method.upper(), json={}, headers=headers)
            assert (method, path, response.status_code, response.json["message"]) == (method, path, 403, ADMINS_ONLY)
    assert client.get(f"/events/{show['_id']}", headers=door).json["status"] == "scheduled"  # not cancelled


def test_door_staff_do_not_buy_and_keep_no_seat(client, door, show):
    """API.md, Roles: a door account checks tickets in and reads counts, "nothing else"."""
    response = reserve(client, door, show)

    assert (response.status_code, response.json) == (403, {"message": "Door staff accounts do not buy tickets",
                                                           "code": "forbidden"})
    assert client.get(f"/events/{show['_id']}").json["ticketsAvailable"] == show["capacity"]


def test_a_role_taken_away_applies_at_once(client, door, ticket, database):
    database.users.update_many({"role": "door"}, {"$set": {"role": "user"}})

    assert scan(client, door, ticket["code"]).status_code == 403


def test_scans_are_rate_limited_per_account(make_app, auth, door, ticket):
    limited = make_app(RATELIMIT_ENABLED=True, RATELIMIT_CHECKIN="3 per minute").test_client()

    statuses = [scan(limited, door, "NOSUCHCODE").status_code for _ in range(4)]

    assert statuses == [404, 404, 404, 429]
    assert scan(limited, door, ticket["code"]).status_code == 429  # a right code too, once limited
    assert scan(limited, auth.door_headers(), ticket["code"]).status_code == 200


# Giving the role


def test_set_role_makes_door_staff_who_can_scan_at_once(client, runner, auth, ticket, database):
    staff = auth.signup(email="door@example.com")
    headers = {"Authorization": f"Bearer {auth.login(staff['email'])}"}
    assert scan(client, headers, ticket["code"]).status_code == 403

    result = runner.invoke(args=["set-role", "Door@Example.com", "door"])

    assert result.exit_code == 0, result.output
    assert result.output == f"door@example.com ({staff['username']}) now has the role door\n"
    stored_user = database.users.find_one({"email": "door@example.com"})
    assert (stored_user["role"], stored_user["__v"]) == ("door", 1)
    assert scan(client, headers, ticket["code"]).status_code == 200
    assert runner.invoke(args=["set-role", "door@example.com", "user"]).exit_code == 0
    assert scan(client, headers, ticket["code"]).status_code == 403


@pytest.fixture
def paid(client, fan, events):
    """A card-paid ticket of `fan`'s, its event refundable by the holder for 10 more days."""
    event = events.create(capacity=10, price=2500, refundDeadline=in_days(10))
    ticket = reserve(client, fan[1], event).json
    return pay(client, fan[1], ticket).json["ticket"]


def test_a_scan_between_the_holders_read_and_refund_keeps_the_ticket_paid(client, door, fan, paid, spied, database,
                                                                          stand_in):
    """Without the holder's claim requiring `checkedInAt: None`, the person let in would be refunded too."""
    spied.arm(command_on("find", "tickets"), lambda: scan(client, door, paid["code"]))

    response = spied.app.test_client().post(f"/tickets/{paid['_id']}/cancel", headers=fan[1])

    assert spied.outcome().status_code == 200
    assert (response.status_code, response.json) == (409, {"message": "This ticket was used at the door",
                                                           "code": "checked_in"})
    assert stored(database, paid)["status"] == "confirmed"
    assert refunds_of(stand_in, stored(database, paid)["paymentIntent"]) == []


def test_a_scan_while_the_holders_refund_runs_is_refused(client, door, fan, paid, spied, database, stand_in):
    """Without the claim in `check_in`'s filter, a ticket being refunded would let someone in."""
    spied.arm(command_on("update", "tickets"), lambda: scan(client, door, paid["code"]))  # the claim

    response = spied.app.test_client().post(f"/tickets/{paid['_id']}/cancel", headers=fan[1])

    assert (spied.outcome().status_code, spied.outcome().json) == (409, {
        "message": "This ticket does not admit anyone: it is being refunded", "code": "not_admissible",
        "status": "refunding"})
    assert (response.status_code, response.json["status"]) == (200, "refunded")
    assert stored(database, paid).get("checkedInAt") is None
    assert len(refunds_of(stand_in, stored(database, paid)["paymentIntent"])) == 1


def test_a_holders_refund_that_fails_leaves_the_ticket_admitting(make_app, client, door, fan, paid, database):
    stripe_down = make_app(STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}", STRIPE_MAX_RETRIES=0)

    refused = stripe_down.test_client().post(f"/tickets/{paid['_id']}/cancel", headers=fan[1])

    assert refused.status_code == 502
    assert "givingBackSince" not in stored(database, paid)
    assert scan(client, door, paid["code"]).json["result"] == "admitted"


def test_a_holders_refund_claimed_between_a_scans_read_and_write_is_refused(app, door, paid, spied, database):
    """Without the claim in `check_in`'s filter, a scan that read the ticket just before its
    holder's refund began would let someone in on a ticket being refunded."""
    def holders_refund_begins():
        with app.app_context():
            return tickets.claim_give_back(db_id(paid), now=utcnow())

    spied.arm(command_on("find", "tickets"), holders_refund_begins)

    response = scan(spied.app.test_client(), door, paid["code"])

    assert spied.outcome() is True
    assert (response.status_code, response.json["status"]) == (409, "refunding")
    assert stored(database, paid).get("checkedInAt") is None
