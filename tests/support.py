"""What the tests share besides fixtures: constants, helper classes and functions.

Tests import from here, never from `conftest.py` or from another test module. The
development stand-ins (`ticket_api.dev`: the embedded servers, the launcher) are named here only, for the
tests, `conftest.py` and `bench/`, so that a move of their modules changes two lines.
"""

import hashlib
import hmac
import itertools
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import marshmallow as ma
import pytest
import requests
from bson import ObjectId
from flask_jwt_extended import decode_token
from pymongo import MongoClient, monitoring

from ticket_api import close, create_app, db, security
from ticket_api.auth.schemas import SignupSchema, UserSchema
from ticket_api.dev.embedded import EmbeddedDatabase, EmbeddedStripe, free_port  # noqa: F401 (for the tests)
from ticket_api.events.schemas import EventCreateSchema, EventSchema
from ticket_api.extensions import api, limiter
from ticket_api.stores import events as event_store
from ticket_api.stores import users

ROOT = Path(__file__).resolve().parent.parent  # the project's folder
LAUNCHER = "ticket_api.dev.launcher"  # `python -m` it: what `make run` runs
PASSWORD = "correct horse battery"
WEBHOOK_SECRET = "whsec_tests"
VISA = "pm_card_visa"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def in_days(days):
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def parse_time(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def db_id(document):
    return ObjectId(document["_id"])


def at_once(*calls):
    """Run each call in a thread of its own, all released together; return their results in order."""
    results, barrier = [None] * len(calls), threading.Barrier(len(calls))

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def wait_for(condition, seconds=10, every=0.1):
    """Poll `condition` until it is true (True) or `seconds` have gone by (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def documents(database):
    """How many documents each collection holds (what a refused request must not change)."""
    return {name: database[name].count_documents({}) for name in database.list_collection_names()}


def pages_dropped(app):
    """After a hand edit of events: `app`'s cached pages go, as after a write of its own."""
    with app.app_context():
        event_store.written()


def refused(schema, body):
    """What `schema` (a route's arguments) refuses in `body`: the messages by field that the
    route's 400 gives under `errors.json` (or `errors.query`). Fails when it takes the body."""
    with pytest.raises(ma.ValidationError) as refusal:
        schema().load(body)
    return refusal.value.messages


def security_claims_of(app, headers):
    """The claims of the bearer token in `headers`, as `app` decodes it."""
    with app.app_context():
        return decode_token(headers["Authorization"].removeprefix("Bearer "), allow_expired=True)


class AuthActions:
    """Accounts as signing up makes them (its schema, its store, a bcrypt hash) and tokens as
    logging in issues them, without a request each; `login` logs in through the API. A test
    whose subject is signing up posts to the API itself."""

    numbers = itertools.count(1)
    hashes = {}  # (password, rounds): a bcrypt hash of it, made once (another salt would add nothing)

    def __init__(self, client, app):
        self.client = client
        self.app = app

    def signup(self, username=None, email=None, password=PASSWORD):
        """A new account (`POST /auth/signup`'s reply, and its `password`)."""
        _, shown = self.create(username, email, password)
        return {**shown, "password": password}

    def create(self, username=None, email=None, password=PASSWORD, role=users.USER):
        """(the stored user, as `POST /auth/signup` shows it): read by the signup schema and
        stored by the users' store, as the route does."""
        n = next(self.numbers)
        body = {"username": username or f"user{n}", "email": email or f"user{n}@example.com", "password": password}
        with self.app.app_context():
            fields = SignupSchema().load(body)
            password = fields.pop("password")
            kept = (password, self.app.config["BCRYPT_ROUNDS"])
            if kept not in self.hashes:
                self.hashes[kept] = security.hash_password(password)
            password_hash = self.hashes[kept]
            user = users.create(password_hash=password_hash, now=db.utcnow(), role=role, **fields)
            return user, json.loads(self.app.json.dumps(UserSchema().dump(user)))

    def login(self, email, password=PASSWORD):
        response = self.client.post("/auth/login", json={"email": email, "password": password})
        assert response.status_code == 201, response.json
        return response.json["token"]

    def token(self, user):
        """The access token logging in gives `user` (the stored document)."""
        with self.app.app_context():
            return security.issue_token(user)

    def user_headers(self, **signup_fields):
        """Headers of a new user, logged in."""
        user, _ = self.create(**signup_fields)
        return bearer(self.token(user))

    def admin_headers(self):
        return self.staff_headers("admin")

    def door_headers(self):
        return self.staff_headers("door")

    def staff_headers(self, role):
        """Headers of a new user given `role` (as an operator would, on the server), logged in."""
        user, _ = self.create(role=role)
        return bearer(self.token(user))

    def many_user_headers(self, count):
        """Headers of `count` users stored directly, with no password: quicker still."""
        now = db.utcnow()
        accounts = [
            {"username": f"buyer{n}", "email": f"buyer{n}@example.com", "passwordHash": "-",
             "role": "user", "createdAt": now, "updatedAt": now, "__v": 0}
            for n in range(count)
        ]
        db.get_db(self.app).users.insert_many(accounts)
        with self.app.app_context():
            return [bearer(security.issue_token(account)) for account in accounts]


class Events:
    """Events as `POST /events` makes them (its schema, its store), without a request each;
    by an admin, who exists (`admin`: their headers)."""

    def __init__(self, client, auth):
        self.client = client
        self.auth = auth
        self._admin = None

    @property
    def admin(self):
        if self._admin is None:
            self._admin = self.auth.admin_headers()
        return self._admin

    def create(self, **fields):
        """A new event (`POST /events`'s reply): 100 seats at 25.00 in 30 days, but `fields`."""
        assert self.admin
        app = self.auth.app
        body = {"name": "Jazz night", "date": in_days(30), "capacity": 100, "price": 2500, **fields}
        with app.app_context():
            event = event_store.create(default_currency=app.config["DEFAULT_CURRENCY"], now=db.utcnow(),
                                       **EventCreateSchema().load(body))
            return json.loads(app.json.dumps(EventSchema().dump(event)))


# Databases and apps of the tests


class Databases:
    """The tests' databases on the session's server: each test gets one holding no document,
    with the collections and indexes an app makes at its start (`db.ensure_indexes`) and
    nothing else. A database is made once and emptied after each test (its documents
    deleted, any other collection dropped) for a later one: cheaper for the server than
    making its eleven collections and indexes again, and done by a thread of their own while
    the next test runs, with a client of their own (`APP_NAME`: no fail point or listener of
    the apps' touches it). Two are in turn, so the one a test takes has been emptied."""

    APP_NAME = "ticket_api-tests"

    def __init__(self, uri):
        self.client = MongoClient(uri, appname=self.APP_NAME)
        self.worker = ThreadPoolExecutor(1, thread_name_prefix="test-databases")
        self.made = []
        self.ready = deque(self.worker.submit(self.make) for _ in range(2))

    def make(self):
        name = f"test_{uuid.uuid4().hex[:12]}"
        db.ensure_indexes(self.client[name])
        self.made.append(name)
        return name

    def emptied(self, name):
        database = self.client[name]
        for collection in database.list_collection_names():
            if collection in db.INDEXES:
                database[collection].delete_many({})
            else:
                database.drop_collection(collection)
        return name

    def take(self):
        """The name of a database of no document, its indexes made."""
        return self.ready.popleft().result()

    def give_back(self, name):
        """After its test: emptied for another."""
        self.ready.append(self.worker.submit(self.emptied, name))

    def close(self):
        for each in self.ready:
            each.result()
        self.worker.shutdown(wait=True)
        for name in self.made:
            self.client.drop_database(name)
        self.client.close()


PER_TEST = ("MONGODB_DB", "DATA_DIR")  # settings each test has its own of, whichever app it gets


class Unshared(Exception):
    """A setting that is not a plain value (a listener, an object): the app is the test's own."""


def frozen(value):
    """`value` as a key of `SharedApps`, when it is plain data (a setting such as a
    number, a text, a list of them)."""
    if value is None or isinstance(value, str | int | float | bool | Path):
        return value
    if isinstance(value, list | tuple):
        return tuple(frozen(item) for item in value)
    if isinstance(value, dict):
        return frozenset((key, frozen(item)) for key, item in value.items())
    raise Unshared(type(value).__name__)


class SharedApps:
    """The apps of a session, kept between tests by their settings, as `create_app` builds
    one in a quarter of a second (its OpenAPI document, mostly) and a test takes a few
    milliseconds.

    An app is shared when its settings are plain values (but command listeners, which its
    client is given through a `Relay` each), on the session's database server and Stripe
    stand-in; a test gets each of its apps to itself (asking twice for the same
    settings gives two apps, two workers), set to its own database (`MONGODB_DB`, made with
    its indexes as at a start) and `DATA_DIR`; the caches an app keeps in `app.extensions`
    and the settings and `wsgi_app` as `create_app` left them; and the extension singletons
    of `ticket_api.extensions` bound to it again, as `create_app` binds them (the last app
    a test was given is the one they serve, as when each was built for it). A shared app
    has "handled its first request" from the start: a test that adds routes must build an
    app of its own (`new_app`), for no route it adds can reach another test.
    """

    def __init__(self, mongodb_uri, stripe_url):
        self.mongodb_uri, self.stripe_url = mongodb_uri, stripe_url
        self.idle = {}  # key -> apps that no test holds
        self.built = {}  # app -> what create_app left (`Pristine`)

    def key(self, settings):
        """Whose apps these settings may share, or None: the app is the test's own."""
        if settings["MONGODB_URI"] != self.mongodb_uri or settings.get("STRIPE_API_BASE") != self.stripe_url:
            return None
        try:
            return frozen({name: value for name, value in settings.items() if name not in PER_TEST})
        except Unshared:
            return None

    def take(self, settings):
        """(key, app): an idle app of these settings set to this test, else a new one."""
        listeners = command_listeners(settings)
        relayed = {**settings, "MONGODB_CLIENT_OPTIONS": {"event_listeners": ("relayed", len(listeners))}}
        key = self.key(relayed if listeners else settings)
        if key is None or not self.idle.get(key):
            if listeners and key is not None:
                settings = {**settings, "MONGODB_CLIENT_OPTIONS": {"event_listeners": [Relay() for _ in listeners]}}
            app = self.build(settings, shared=key is not None)
        else:
            app = self.idle[key].pop()
            self.built[app].restore(app, settings)
            self.bind(app)
        if key is not None:
            for relay, listener in zip(self.built[app].relays, listeners, strict=True):
                relay.target = listener
        if limiter.enabled:  # its client made now, not by each of a test's racing first requests (one is kept)
            assert limiter.storage.storage
        return key, app

    def build(self, settings, *, shared):
        previous = limiter._storage
        app = create_app(settings)
        self.drop_storage(previous)
        if shared:
            self.built[app] = Pristine(app, settings)
        return app

    def bind(self, app):
        """The singletons, as `create_app` left them for `app`: flask-smorest's `Api` (its
        document, its app and settings) and the rate limiter (on or off, and its storage,
        in the app's database now)."""
        pristine = self.built[app]
        api._app, api.config, api.spec = app, type(api.config)(app.config, api.config_prefix), pristine.spec
        previous = limiter._storage
        limiter.init_app(app)  # a second time: no hooks added again, only the settings and a new storage
        self.drop_storage(previous)

    @staticmethod
    def drop_storage(storage):
        """Close the rate limiter's storage that another replaced (its client, if it made one)."""
        if storage is not None and storage is not limiter._storage and storage._storage is not None:
            storage._storage.close()

    def give_back(self, key, app):
        for relay in self.built[app].relays:
            relay.target = None
        self.idle.setdefault(key, []).append(app)

    def discard(self, app):
        self.built.pop(app, None)
        close(app)

    def close(self):
        for apps in self.idle.values():
            for app in apps:
                close(app)
        self.idle.clear()
        if limiter._storage is not None and limiter._storage._storage is not None:  # kept while the limiter is off
            limiter._storage._storage.close()


def command_listeners(settings):
    """The command listeners a test gives its app (`MONGODB_CLIENT_OPTIONS`), when they are
    all it sets there: a shared app's client is made with a `Relay` for each."""
    options = settings.get("MONGODB_CLIENT_OPTIONS") or {}
    listeners = options.get("event_listeners") or []
    if set(options) == {"event_listeners"} and all(isinstance(each, monitoring.CommandListener) for each in listeners):
        return list(listeners)
    return []


class Relay(monitoring.CommandListener):
    """A command listener of a shared app's client that passes each event to the listener
    of the test holding the app, if any (pymongo takes a client's listeners when it is made)."""

    target = None

    def started(self, event):
        if self.target is not None:
            self.target.started(event)

    def succeeded(self, event):
        if self.target is not None:
            self.target.succeeded(event)

    def failed(self, event):
        if self.target is not None:
            self.target.failed(event)


class Pristine:
    """What `create_app` left on one app, to give it back so to the next test."""

    def __init__(self, app, settings):
        self.config = dict(app.config)
        self.relays = [each for each in self.config.get("MONGODB_CLIENT_OPTIONS", {}).get("event_listeners", [])
                       if isinstance(each, Relay)]
        self.extensions = set(app.extensions)
        self.wsgi_app = app.wsgi_app
        self.spec = api.spec
        # The per-test settings are found where they are set again (`restore`), nowhere else.
        for name, value in self.config.items():
            for per_test in PER_TEST:
                assert name in (per_test, "RATELIMIT_STORAGE_OPTIONS") or str(settings[per_test]) not in str(value), (
                    f"{name} holds {per_test}: set it in SharedApps.restore")
        app._got_first_request = True  # no setup method after this (Flask refuses them once it has served)

    def restore(self, app, settings):
        app.config.clear()
        app.config.update(self.config)
        app.config.update({name: settings[name] for name in PER_TEST})
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {**self.config["RATELIMIT_STORAGE_OPTIONS"],
                                                   "database_name": settings["MONGODB_DB"]}
        for name in set(app.extensions) - self.extensions:
            del app.extensions[name]
        app.wsgi_app = self.wsgi_app


# Tickets


def seats_taken(database, event):
    return database.events.find_one({"_id": ObjectId(event["_id"])})["seatsTaken"]


def reserve(client, headers, event, **fields):
    return client.post("/tickets", json={"eventId": event["_id"], **fields}, headers=headers)


def stored(database, ticket):
    """The ticket as the database holds it."""
    return database.tickets.find_one({"_id": ObjectId(ticket["_id"])})


def begin(database, event, days_ago=1):
    """Move an event's date into the past, as if it had begun (the API takes only a future date)."""
    when = datetime.now(UTC) - timedelta(days=days_ago)
    database.events.update_one({"_id": ObjectId(event["_id"])}, {"$set": {"date": when}})
    return {**event, "date": when}


def lapse(database, ticket):
    """Move a ticket's hold expiry into the past, as if HOLD_MINUTES had gone by."""
    database.tickets.update_one(
        {"_id": ObjectId(ticket["_id"])},
        {"$set": {"expiresAt": datetime.now(UTC) - timedelta(seconds=1)}},
    )


# Payments


def pay(client, headers, ticket, token=VISA, **overrides):
    body = {"ticketId": ticket["_id"], "amount": ticket["amount"], **overrides}
    if token:
        body["token"] = token
    return client.post("/payment", json=body, headers=headers)


def intents_for(stand_in, ticket):
    """The ticket's PaymentIntents, as the stand-in holds them (every page: it lists the
    oldest first; the test's own, as it is emptied before each test)."""
    every = stand_in.payment_intents.list(params={"limit": 100}).auto_paging_iter()
    return [intent for intent in every if intent.metadata.to_dict().get("ticketId") == ticket["_id"]]


def charged(stand_in, ticket):
    return [intent for intent in intents_for(stand_in, ticket) if intent.status == "succeeded"]


def browser_confirms(standin_url, intent_id, client_secret, payment_method=VISA):
    """What stripe.confirmCardPayment does: the publishable key and the client secret."""
    data = {"payment_method": payment_method, "client_secret": client_secret, "key": "pk_test_tests"}
    return requests.post(f"{standin_url}/v1/payment_intents/{intent_id}/confirm", data=data, timeout=10)


def signed(event_type, obj, secret=WEBHOOK_SECRET, event_id=None):
    """A webhook request as Stripe signs it: keyword arguments of `client.post`."""
    payload = json.dumps({
        "id": event_id or f"evt_{ObjectId()}", "object": "event", "type": event_type,
        "created": int(time.time()), "data": {"object": obj},
    })
    return signed_payload(payload, secret)


def signed_payload(payload, secret=WEBHOOK_SECRET):
    """Any body, signed as Stripe signs a webhook: keyword arguments of `client.post`."""
    timestamp = int(time.time())
    signature = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return {"data": payload, "headers": {"Stripe-Signature": f"t={timestamp},v1={signature}",
                                        "Content-Type": "application/json"}}


def charge_refunded(intent_id, event_id=None):
    """The `charge.refunded` webhook Stripe sends for a refund of this PaymentIntent's charge
    (keyword arguments of `client.post`); the service reads the amounts back from Stripe."""
    charge = {"id": f"ch_{ObjectId()}", "object": "charge", "payment_intent": intent_id}
    return signed("charge.refunded", charge, event_id=event_id)


def refunds_of(stand_in, intent_id):
    """The refunds of a PaymentIntent, as the stand-in holds them."""
    return stand_in.refunds.list(params={"payment_intent": intent_id, "limit": 100}).data


def refund_at_stripe(stand_in, intent_id, amount=None):
    """A refund made in Stripe's dashboard (all of it, or `amount`): made at the stand-in,
    and the webhook Stripe then sends."""
    stand_in.refunds.create(params={"payment_intent": intent_id, **({"amount": amount} if amount else {})})
    return charge_refunded(intent_id)


# Interleavings


class Interleave(monitoring.CommandListener):
    """Forces an interleaving on an app's client, rather than waiting for one: right after
    the first command that `matches(name, command)` picks has succeeded, `then()` runs to
    completion on that thread, before the app goes on (`arm` them; an unarmed one only
    listens). pymongo swallows what a listener raises, so `outcome()` re-raises it, and
    fails the test when `then` never ran.
    """

    def __init__(self):
        self.matches = self.then = None
        self.waiting = set()
        self.fired = False
        self.result = self.error = None

    def arm(self, matches, then):
        self.matches, self.then = matches, then

    def started(self, event):
        if self.then is not None and self.matches(event.command_name, event.command):
            self.waiting.add(event.request_id)

    def succeeded(self, event):
        if event.request_id not in self.waiting or self.then is None:
            return
        then, self.then = self.then, None
        self.fired = True
        try:
            self.result = then()
        except Exception as error:  # re-raised by outcome()
            self.error = error

    def failed(self, event):
        self.waiting.discard(event.request_id)

    def outcome(self):
        """What `then` returned (it must have run, and not raised)."""
        assert self.fired, "the interleaving was not forced: the command never ran"
        if self.error is not None:
            raise self.error
        return self.result


class CommandLog(monitoring.CommandListener):
    """What an app's client sends: each command's name and collection, in order."""

    def __init__(self):
        self.sent = []

    def started(self, event):
        self.sent.append((event.command_name, event.command.get(event.command_name)))

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass

    def names(self):
        return [name for name, _ in self.sent]


def command_on(name, collection):
    """Matches the commands `name` on `collection` (for `Interleave.arm`)."""
    return lambda command_name, command: command_name == name and command.get(name) == collection


def dev_env(tmp_path, **extra):
    """The environment of a `make run` of its own: its `DATA_DIR` under `tmp_path`, free ports."""
    env = {key: value for key, value in os.environ.items() if key != "MONGODB_URI"}
    return {
        **env,
        "DATA_DIR": str(tmp_path / "instance"),
        "EMBEDDED_DB_PORT": str(free_port()),
        "EMBEDDED_STRIPE_PORT": str(free_port()),
        "PORT": str(free_port()),
        "BCRYPT_ROUNDS": "4",
        **extra,
    }


def start_make_run(env):
    """`make run` in its own process group, as a terminal would start it."""
    return subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_until_serving(base_url, process, seconds=60):
    def serving():
        assert process.poll() is None, process.stdout.read()
        try:
            return requests.get(f"{base_url}/healthz", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    if not wait_for(serving, seconds):
        pytest.fail(f"{base_url} did not answer within {seconds} s")


def ctrl_c(process):
    """Ctrl-C to a `start_make_run`: what it printed."""
    os.killpg(process.pid, signal.SIGINT)
    return process.communicate(timeout=30)[0]


# The OpenAPI document


def operations(spec):
    """(path, method, operation) of every operation of the document."""
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method != "parameters":  # the path's own parameters, not an operation
                yield path, method, operation


def error_responses(spec):
    """(path, method, status, response) of every documented error reply, a `$ref` to a
    shared response followed; but `/healthz`'s 503, whose body API.md gives as
    `{"status": "unavailable"}`."""
    for path, method, operation in operations(spec):
        for status, response in operation.get("responses", {}).items():
            if status == "default" or int(status) >= 400:
                if "$ref" in response:
                    response = spec["components"]["responses"][response["$ref"].rpartition("/")[2]]
                if (path, method, status) != ("/healthz", "get", "503"):
                    yield path, method, status, response
