"""What requests cost in database commands: lists in a constant number, sold out cheapest."""

import pytest

from support import CommandLog, caught_up, feed_current, reserve


@pytest.mark.parametrize("path", ["/auth/tickets", "/tickets"])
def test_lists_populate_events_in_a_constant_number_of_queries(counted, auth, events, client, path):
    counted_client, log = counted
    feed_current(counted_client.application)
    headers = auth.admin_headers()

    def queries_for_list():
        log.sent.clear()
        assert counted_client.get(path, headers=headers).status_code == 200
        return len(log.sent)

    reserve(client, headers, events.create())
    with_one = queries_for_list()
    for n in range(10):
        reserve(client, headers, events.create(name=f"e{n}"))
    with_eleven = queries_for_list()

    assert with_one == with_eleven


def test_sold_out_is_the_cheapest_answer(counted, auth, events):
    """During a rush most buyers are told "sold out". With the worker's copies current
    (`changes.py`), a reservation asks the database only what must be written: the seats,
    the account's count, the ticket; and "sold out" only the scan for lapsed holds and the
    look for their PaymentIntents left to cancel. No token check, event read or user read."""
    counted_client, log = counted
    feed_current(counted_client.application)

    won, lost = commands_of_a_win_then_a_sold_out(counted_client, log, auth, events)

    assert won == [("update", "events"), ("insert", "holdings"), ("insert", "tickets")]
    assert lost == [("find", "tickets"), ("find", "tickets")]


def test_without_current_copies_a_reservation_reads_what_it_needs(make_app, auth, events):
    """No change stream (a standalone mongod): the token's revocations, the event and the
    buyer's role are read on each request."""
    log = CommandLog()
    worker = make_app(CHANGE_FEED=False, MONGODB_CLIENT_OPTIONS={"event_listeners": [log]}).test_client()

    won, lost = commands_of_a_win_then_a_sold_out(worker, log, auth, events)

    assert won == [("find", "revoked_tokens"), ("find", "events"), ("update", "events"), ("find", "users"),
                   ("insert", "holdings"), ("insert", "tickets")]
    assert lost == [("find", "revoked_tokens"), ("find", "events"), ("find", "tickets"), ("find", "tickets")]


# Issue 16's bounds, with the copies current: a change that adds a round trip fails here.
RESERVATION_ROUND_TRIPS = 3
SOLD_OUT_ROUND_TRIPS = 2


def test_a_reservation_takes_three_round_trips_and_sold_out_two(counted, auth, events):
    counted_client, log = counted
    feed_current(counted_client.application)

    won, sold_out = commands_of_a_win_then_a_sold_out(counted_client, log, auth, events)

    assert len(won) <= RESERVATION_ROUND_TRIPS
    assert len(sold_out) <= SOLD_OUT_ROUND_TRIPS


def commands_of_a_win_then_a_sold_out(worker, log, auth, events):
    """The database commands (name, collection) of the reservation that takes an event's
    only seat, then of the one told "sold out"."""
    event = events.create(capacity=1)
    headers = auth.user_headers()
    caught_up()

    def commands_for_reservation(status):
        log.sent.clear()
        assert reserve(worker, headers, event).status_code == status
        return list(log.sent)

    won = commands_for_reservation(201)
    caught_up()  # the next buyer's worker has seen the sale (its copy is not behind)
    return won, commands_for_reservation(409)
