"""A paid ticket is held `pending` for HOLD_MINUTES; a lapsed hold gives its seats back by
itself, on the next read of its event or of the list."""

from datetime import timedelta

from support import lapse, parse_time, reserve


def test_hold_minutes_come_from_the_settings(make_app, events, auth):
    event = events.create(price=100)
    other = make_app(HOLD_MINUTES=2).test_client()

    ticket = reserve(other, auth.user_headers(), event).json

    hold = parse_time(ticket["expiresAt"]) - parse_time(ticket["createdAt"])
    assert hold == timedelta(minutes=2)


def test_a_lapsed_hold_gives_its_seats_back_by_itself(client, auth, events, database):
    event = events.create(capacity=4)
    headers = auth.user_headers()
    ticket = reserve(client, headers, event, quantity=4).json
    assert reserve(client, headers, event).status_code == 409

    lapse(database, ticket)

    assert client.get(f"/events/{event['_id']}").json["ticketsAvailable"] == 4
    assert client.get(f"/tickets/{ticket['_id']}", headers=headers).json["status"] == "expired"
    assert reserve(client, headers, event, quantity=4).status_code == 201


def test_the_event_list_releases_lapsed_holds_too(client, auth, events, database):
    event = events.create(capacity=4)
    lapse(database, reserve(client, auth.user_headers(), event, quantity=4).json)

    assert client.get("/events").json[0]["ticketsAvailable"] == 4


def test_confirmed_tickets_never_lapse(client, auth, events, database):
    event = events.create(capacity=3, price=0)
    ticket = reserve(client, auth.user_headers(), event, quantity=3).json
    lapse(database, ticket)

    assert client.get(f"/events/{event['_id']}").json["ticketsAvailable"] == 0
