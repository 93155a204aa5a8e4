"""One account holds at most the event's `maxPerUser` seats, pending and confirmed together,
whatever the concurrency; and it reserves at most `RATELIMIT_RESERVE` times a minute."""

import threading

import pytest
from bson import ObjectId

from support import browser_confirms, command_on, lapse, pay, reserve, seats_taken, stored

SEAT_LIMIT = {"message": "No more seats for this account: the event's limit per account is reached",
              "code": "seat_limit"}


def held_by(database, event, headers_user_id=None):
    """Seats the event's pending and confirmed tickets hold (of one user, if given)."""
    match = {"event": ObjectId(event["_id"]), "status": {"$in": ["pending", "confirmed"]}}
    if headers_user_id:
        match["user"] = headers_user_id
    return sum(ticket["quantity"] for ticket in database.tickets.find(match))


def all_at_once(app, count, body, headers):
    """`count` POST /tickets of one account, from as many threads released together."""
    statuses, barrier = [], threading.Barrier(count)

    def buy():
        client = app.test_client()
        barrier.wait()
        response = client.post("/tickets", json=body, headers=headers)
        refused = response.status_code != 201  # a free ticket's reply has a `code` too: its door code
        statuses.append((response.status_code, response.json.get("code") if refused else None))

    threads = [threading.Thread(target=buy) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.parametrize("price", [2500, 0], ids=["paid", "free"])
def test_one_account_racing_twenty_reservations_never_passes_the_limit(app, auth, events, database, price):
    event = events.create(capacity=200, price=price)
    headers = auth.user_headers()

    statuses = all_at_once(app, 20, {"eventId": event["_id"], "quantity": 10}, headers)

    assert sorted(statuses).count((201, None)) == 1
    assert sorted(statuses).count((409, "seat_limit")) == 19
    assert held_by(database, event) == 10
    assert seats_taken(database, event) == 10  # the losers' seats went back to the event


def test_the_limit_is_the_events_and_counts_pending_and_confirmed_together(client, auth, events):
    event = events.create(capacity=50, price=0, maxPerUser=4)
    headers = auth.user_headers()

    assert reserve(client, headers, event, quantity=5).json == SEAT_LIMIT
    assert reserve(client, headers, event, quantity=2).status_code == 201
    assert reserve(client, headers, event, quantity=2).status_code == 201
    refused = reserve(client, headers, event, quantity=1)
    assert (refused.status_code, refused.json) == (409, SEAT_LIMIT)
    assert reserve(client, auth.user_headers(), event, quantity=4).status_code == 201  # another account


def test_seats_given_back_count_no_more(client, auth, events, database):
    event = events.create(capacity=50, price=1000, maxPerUser=2)
    headers = auth.user_headers()
    lapsed = reserve(client, headers, event, quantity=2).json
    lapse(database, lapsed)

    again = reserve(client, headers, event, quantity=2)

    assert again.status_code == 201
    assert stored(database, lapsed)["status"] == "expired"
    assert pay(client, headers, again.json).status_code == 200
    assert reserve(client, headers, event).json == SEAT_LIMIT


@pytest.mark.parametrize("bad", [0, 101, "5", 2.5, None, {"$gt": 0}])
def test_max_per_user_is_an_integer_from_1_to_100(client, events, bad):
    body = {"name": "Jazz", "date": "2030-01-01T20:00:00Z", "capacity": 10, "maxPerUser": bad}

    response = client.post("/events", json=body, headers=events.admin)

    assert response.status_code == 400
    assert "maxPerUser" in response.json["errors"]["json"]


def test_a_reservation_overtaken_by_the_same_accounts_other_one_is_refused(spied, client, auth, events, database):
    """The second request of one account wins its seats between the first's seat update and
    its count against the limit: the first is refused, and its seats go back.

    Bug caught: `hold_for_user`'s filter without `"seats": {"$lte": limit - quantity}`.
    """
    event = events.create(capacity=50, maxPerUser=10)
    headers = auth.user_headers()
    spied.arm(command_on("update", "events"), lambda: reserve(client, headers, event, quantity=6))

    first = reserve(spied.app.test_client(), headers, event, quantity=6)

    assert spied.outcome().status_code == 201
    assert (first.status_code, first.json) == (409, SEAT_LIMIT)
    assert held_by(database, event) == 6
    assert seats_taken(database, event) == 6


def test_reservations_are_rate_limited_per_account(make_app, auth, events):
    limited = make_app(RATELIMIT_ENABLED=True, RATELIMIT_RESERVE="3 per minute").test_client()
    event = events.create(capacity=100, price=0, maxPerUser=100)
    headers, other = auth.user_headers(), auth.user_headers()

    statuses = [reserve(limited, headers, event).status_code for _ in range(4)]

    assert statuses == [201, 201, 201, 429]
    assert reserve(limited, other, event).status_code == 201


def test_seats_taken_back_for_a_late_payment_count_against_the_limit(client, auth, events, stripe_standin, database):
    """Money for a lapsed hold takes its seats back: they count again against `maxPerUser`.

    Bug caught: `settlement.retake_seats` not counting the seats for the account."""
    event = events.create(capacity=10, price=1000, maxPerUser=2)
    buyer = auth.user_headers()
    held = reserve(client, buyer, event, quantity=2).json
    started = pay(client, buyer, held, token=None).json
    browser_confirms(stripe_standin.url, started["paymentId"], started["clientSecret"])
    lapse(database, held)

    client.get("/events")  # releases the hold, then settles the money that came for it
    assert stored(database, held)["status"] == "confirmed"
    refused = reserve(client, buyer, event)

    assert refused.status_code == 409
    assert refused.json == SEAT_LIMIT
