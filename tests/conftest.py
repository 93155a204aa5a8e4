"""A real database for every test: our own SecantusDB server (or `MONGODB_URI` when set),
and a fresh, empty database on it for each test, dropped afterwards."""

import itertools
import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import stripe
from bson import ObjectId
from pymongo import MongoClient

from ticket_api import close, create_app, db, security
from ticket_api.dev.embedded import EmbeddedDatabase, EmbeddedStripe

PASSWORD = "correct horse battery"
WEBHOOK_SECRET = "whsec_tests"


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


@pytest.fixture
def settings(mongodb_uri, stripe_standin, tmp_path):
    """The settings of the test app; a test may change them before asking for `app`."""
    return {
        "TESTING": True,
        "APP_ENV": "development",
        "MONGODB_URI": mongodb_uri,
        "MONGODB_DB": f"test_{uuid.uuid4().hex[:12]}",
        "DATA_DIR": tmp_path,
        "JWT_SECRET_KEY": "test-secret-" + "x" * 32,
        "BCRYPT_ROUNDS": 4,
        "RATELIMIT_ENABLED": False,
        "STRIPE_SECRET_KEY": "sk_test_tests",
        "STRIPE_API_BASE": stripe_standin.url,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_MAX_RETRIES": 0,
    }


@pytest.fixture
def app(settings):
    app = create_app(settings)
    yield app
    db.get_client(app).drop_database(settings["MONGODB_DB"])
    close(app)


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


class AuthActions:
    """Sign up and log in through the API, as a frontend would."""

    numbers = itertools.count(1)

    def __init__(self, client, app):
        self.client = client
        self.app = app

    def signup(self, username=None, email=None, password=PASSWORD):
        n = next(self.numbers)
        body = {
            "username": username or f"user{n}",
            "email": email or f"user{n}@example.com",
            "password": password,
        }
        response = self.client.post("/auth/signup", json=body)
        assert response.status_code == 201, response.json
        return {**response.json, "password": password}

    def login(self, email, password=PASSWORD):
        response = self.client.post("/auth/login", json={"email": email, "password": password})
        assert response.status_code == 201, response.json
        return response.json["token"]

    def user_headers(self, **signup_fields):
        """Headers of a newly signed-up, logged-in user."""
        user = self.signup(**signup_fields)
        return bearer(self.login(user["email"], user["password"]))

    def admin_headers(self):
        user = self.signup()
        db.get_db(self.app).users.update_one({"_id": db_id(user)}, {"$set": {"role": "admin"}})
        return bearer(self.login(user["email"]))

    def many_user_headers(self, count):
        """Headers of `count` users stored directly: quicker than signing each one up."""
        now = db.utcnow()
        users = [
            {"username": f"buyer{n}", "email": f"buyer{n}@example.com", "passwordHash": "-",
             "role": "user", "createdAt": now, "updatedAt": now, "__v": 0}
            for n in range(count)
        ]
        db.get_db(self.app).users.insert_many(users)
        with self.app.app_context():
            return [bearer(security.issue_token(user)) for user in users]


class Events:
    """Create events through the API, as venue staff would."""

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
        body = {"name": "Jazz night", "date": in_days(30), "capacity": 100, "price": 2500, **fields}
        response = self.client.post("/events", json=body, headers=self.admin)
        assert response.status_code == 201, response.json
        return response.json


def in_days(days):
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def db_id(document):
    return ObjectId(document["_id"])


@pytest.fixture
def auth(client, app):
    return AuthActions(client, app)


@pytest.fixture
def events(client, auth):
    return Events(client, auth)
