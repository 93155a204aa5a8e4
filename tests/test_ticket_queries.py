"""What requests cost in database commands: lists in a constant number, sold out cheapest."""

import pytest
from pymongo import monitoring

from support import reserve


class CommandCounter(monitoring.CommandListener):
    def __init__(self):
        self.names = []

    def started(self, event):
        self.names.append(event.command_name)

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


@pytest.fixture
def counted(make_app):
    """A second app on the test database, and the names of the database commands it sends."""
    counter = CommandCounter()
    app = make_app(MONGODB_CLIENT_OPTIONS={"event_listeners": [counter]})
    return app.test_client(), counter.names


@pytest.mark.parametrize("path", ["/auth/tickets", "/tickets"])
def test_lists_populate_events_in_a_constant_number_of_queries(counted, auth, events, client, path):
    counted_client, commands = counted
    headers = auth.admin_headers()

    def queries_for_list():
        commands.clear()
        assert counted_client.get(path, headers=headers).status_code == 200
        return len(commands)

    reserve(client, headers, events.create())
    with_one = queries_for_list()
    for n in range(10):
        reserve(client, headers, events.create(name=f"e{n}"))
    with_eleven = queries_for_list()

    assert with_one == with_eleven


def test_sold_out_is_the_cheapest_answer(counted, auth, events):
    """During a rush most buyers are told "sold out": that costs the token check, the event
    read and the scan for lapsed holds; no write, no user read."""
    counted_client, commands = counted
    event = events.create(capacity=1)
    headers = auth.user_headers()

    def commands_for_reservation(status):
        commands.clear()
        assert reserve(counted_client, headers, event).status_code == status
        return commands[:]

    won, lost = commands_for_reservation(201), commands_for_reservation(409)

    assert won == ["find", "find", "update", "update", "find", "insert"]
    assert lost == ["find", "find", "find"]
