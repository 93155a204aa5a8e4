"""What requests cost in database commands: lists in a constant number, sold out cheapest."""

import pytest

from support import reserve


@pytest.mark.parametrize("path", ["/auth/tickets", "/tickets"])
def test_lists_populate_events_in_a_constant_number_of_queries(counted, auth, events, client, path):
    counted_client, log = counted
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
    """During a rush most buyers are told "sold out". A reservation reads what it decides
    on (the token's revocations, the event, the buyer's role) and writes the seats, the
    account's count and the ticket; "sold out" reads the revocations and the event, then
    scans for lapsed holds (releasing them never asks Stripe anything)."""
    counted_client, log = counted

    won, lost = commands_of_a_win_then_a_sold_out(counted_client, log, auth, events)

    assert won == [("find", "revoked_tokens"), ("find", "events"), ("update", "events"), ("find", "users"),
                   ("insert", "holdings"), ("insert", "tickets")]
    assert lost == [("find", "revoked_tokens"), ("find", "events"), ("find", "tickets")]


def commands_of_a_win_then_a_sold_out(worker, log, auth, events):
    """The database commands (name, collection) of the reservation that takes an event's
    only seat, then of the one told "sold out"."""
    event = events.create(capacity=1)
    headers = auth.user_headers()

    def commands_for_reservation(status):
        log.sent.clear()
        assert reserve(worker, headers, event).status_code == status
        return list(log.sent)

    won = commands_for_reservation(201)
    return won, commands_for_reservation(409)


def test_a_sold_out_answer_soon_after_another_reads_no_event(counted, auth, events):
    """The event read for a "sold out" serves the next ones for half a second (`events.recent`)."""
    counted_client, log = counted
    event = events.create(capacity=1, price=0)
    headers = auth.user_headers()
    assert reserve(counted_client, auth.user_headers(), event).status_code == 201
    assert reserve(counted_client, headers, event).status_code == 409

    log.sent.clear()
    assert reserve(counted_client, headers, event).status_code == 409

    assert log.sent == [("find", "revoked_tokens"), ("find", "tickets")]
