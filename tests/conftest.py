"""Fixtures only (helpers are in `support.py`). A real database for every test: our own
SecantusDB server (or `MONGODB_URI` when set), and a database on it of the test's own,
holding no document (`support.Databases`); a real Stripe stand-in over HTTP, emptied
before each test; and the apps, built once for the tests of the same settings and set to
each in turn (`support.SharedApps`)."""

import os
import socket
import threading
from contextlib import ExitStack

import pytest
import requests
import stripe
from pymongo import MongoClient
from werkzeug.serving import make_server

from support import (
    WEBHOOK_SECRET,
    AuthActions,
    CommandLog,
    Databases,
    EmbeddedDatabase,
    EmbeddedStripe,
    Events,
    Interleave,
    SharedApps,
)
from ticket_api import close, create_app, db


@pytest.fixture(scope="session")
def mongodb_uri():
    if os.environ.get("MONGODB_URI"):
        yield os.environ["MONGODB_URI"]
        return
    server = EmbeddedDatabase(":memory:", test_commands=True).start()
    yield server.uri + "&heartbeatFrequencyMS=500"
    server.stop()


@pytest.fixture(scope="session")
def stripe_standin():
    standin = EmbeddedStripe().start()
    yield standin
    standin.stop()


@pytest.fixture
def stand_in(stripe_standin):
    """The stand-in, asked directly, as an operator would look in Stripe's dashboard."""
    return stripe.StripeClient("sk_test_tests", base_addresses={"api": stripe_standin.url}).v1


@pytest.fixture(scope="session")
def databases(mongodb_uri):
    """The tests' databases (`support.Databases`)."""
    made = Databases(mongodb_uri)
    yield made
    made.close()


@pytest.fixture(scope="session")
def stand_in_config():
    """A connection to the stand-in's own configuration routes (kept open between tests)."""
    with requests.Session() as session:
        yield session


@pytest.fixture
def settings(mongodb_uri, stripe_standin, stand_in_config, databases, tmp_path):
    """The settings of the test apps: a module may override this fixture, and
    `make_app(**overrides)` changes some for one app. A database of the test's own, holding
    no document; and the stand-in emptied first, a Stripe account of the test's own (every
    list of it, such as `support.intents_for`, is as long as the test made it)."""
    stand_in_config.delete(f"{stripe_standin.url}/_config/data", timeout=10).raise_for_status()
    database = databases.take()
    yield {
        "TESTING": True,
        "APP_ENV": "development",
        "MONGODB_URI": mongodb_uri,
        "MONGODB_DB": database,
        "DATA_DIR": tmp_path,
        "JWT_SECRET_KEY": "test-secret-" + "x" * 32,
        "BCRYPT_ROUNDS": 4,
        "RATELIMIT_ENABLED": False,
        "STRIPE_SECRET_KEY": "sk_test_tests",
        "STRIPE_API_BASE": stripe_standin.url,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_MAX_RETRIES": 0,
    }
    databases.give_back(database)


@pytest.fixture(scope="session")
def shared_apps(mongodb_uri, stripe_standin):
    """The apps tests share, by their settings (`support.SharedApps`)."""
    apps = SharedApps(mongodb_uri, stripe_standin.url)
    yield apps
    apps.close()


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item):
    """Note a test that failed, for `make_app`: its apps are not shared on."""
    report = yield
    if report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture
def make_app(request, settings, shared_apps):
    """`make_app(**overrides)`: an app on `settings` with these changed, the test's own
    whoever else had it before (`support.SharedApps`: a test asking twice gets two apps).
    After the test the app goes back to the shared ones, unless it is of settings no other
    test can share, or the test failed or armed a fail point (then it is closed)."""
    taken = []

    def make(**overrides):
        key, app = shared_apps.take({**settings, **overrides})
        taken.append((key, app))
        return app

    yield make
    keep = not request.node.stash.get(FAILED, False) and "fail_point" not in request.fixturenames
    with ExitStack() as cleanup:  # every callback runs, even after one failed
        for key, app in taken:
            if key is not None and keep:
                cleanup.callback(shared_apps.give_back, key, app)
            else:
                cleanup.callback(shared_apps.discard, app)


@pytest.fixture
def new_app(settings):
    """`new_app(**overrides)`: an app built for this test alone, closed after it (for a
    test that changes the app itself, such as adding a route)."""
    made = []

    def make(**overrides):
        app = create_app({**settings, **overrides})
        made.append(app)
        return app

    yield make
    with ExitStack() as cleanup:
        for app in made:
            cleanup.callback(close, app)


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def live_server(app):
    """The base URL of `app` served over real HTTP on loopback, from a thread, for callers
    that are not the test client (a browser, the stand-in's webhooks); shut down after."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def database(app):
    return db.get_db(app)


@pytest.fixture
def raw_client(mongodb_uri):
    client = MongoClient(mongodb_uri)
    yield client
    client.close()


@pytest.fixture
def fail_point(raw_client):
    """`fail_point(*commands, times=1, close_connection=False, **data)` arms the database's
    `failCommand` fail point for the app's next `times` commands of these names (all of
    them when `times` is None): they fail with error 2, or the server closes the connection;
    `data` adds to the fail point's data (errorCode, writeConcernError...). The fail point
    is turned off after the test, whether it fired or not."""

    def arm(*commands, times=1, close_connection=False, **data):
        data = {"failCommands": list(commands), "appName": "ticket_api", **data}
        if close_connection:
            data["closeConnection"] = True
        elif "writeConcernError" not in data:
            data.setdefault("errorCode", 2)
        mode = "alwaysOn" if times is None else {"times": times}
        raw_client.admin.command("configureFailPoint", "failCommand", mode=mode, data=data)

    yield arm
    raw_client.admin.command("configureFailPoint", "failCommand", mode="off")


@pytest.fixture
def spied(make_app):
    """Another worker on the test's database, its client watched by an `Interleave`:
    `spied.app`, then `spied.arm(matches, then)` and `spied.outcome()`."""
    spy = Interleave()
    spy.app = make_app(MONGODB_CLIENT_OPTIONS={"event_listeners": [spy]})
    return spy


@pytest.fixture
def counted(make_app):
    """Another worker on the test's database, and the `CommandLog` of its client (cleared
    of the indexes made at its start)."""
    log = CommandLog()
    worker = make_app(MONGODB_CLIENT_OPTIONS={"event_listeners": [log]}).test_client()
    log.sent.clear()
    return worker, log


@pytest.fixture
def auth(client, app):
    return AuthActions(client, app)


@pytest.fixture
def events(client, auth):
    return Events(client, auth)


@pytest.fixture
def buyer(auth):
    """Headers of a signed-up, logged-in user."""
    return auth.user_headers()


@pytest.fixture
def event(events):
    """An event on sale: 10 seats at 25.00."""
    return events.create(capacity=10, price=2500)


@pytest.fixture
def held(client, event, buyer):
    """A pending ticket of `buyer`'s for `event`: 2 seats at 25.00."""
    response = client.post("/tickets", json={"eventId": event["_id"], "quantity": 2}, headers=buyer)
    return response.json


@pytest.fixture
def stripe_hanging_up():
    """Where Stripe should be, a port that takes each connection and closes it at once:
    the port, and the list of connections taken."""
    listener = socket.create_server(("127.0.0.1", 0))
    taken = []

    def hang_up():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # the listener was shut
                return
            taken.append(connection)
            connection.close()

    threading.Thread(target=hang_up, daemon=True).start()
    yield listener.getsockname()[1], taken
    listener.shutdown(socket.SHUT_RDWR)
    listener.close()
