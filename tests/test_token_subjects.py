"""A token signed with the right key whose `sub` is not a user id, or whose expiry is
missing or beyond any lifetime we give (a slip in another service sharing the key, or a
forger who has it) is a 401 on every route, never a 500, and never lives for ever."""

import time

import jwt
import pytest
from bson import ObjectId
from flask import Flask
from flask_jwt_extended import create_access_token

from support import bearer, documents
from ticket_api.security import well_formed

ROUTES = [
    ("get", "/auth/tickets"),
    ("get", "/tickets"),
    ("get", "/tickets/6b06d3c37bbe849cee143ee7"),
    ("post", "/tickets"),
    ("post", "/events"),
    ("post", "/payment"),
]
SUBJECTS = ["not-an-id", "", "6b06d3c37bbe849cee143ee", "zzzzzzzzzzzzzzzzzzzzzzzz", "abcdefghijkl", "\x00"]


def forged(app, subject, role="admin"):
    with app.app_context():
        return create_access_token(identity=subject, additional_claims={"role": role})


@pytest.fixture
def lifetimes():
    """An app context with the token lifetimes of the tests' settings (the defaults), for `well_formed`."""
    app = Flask(__name__)
    app.config.update(JWT_ACCESS_TOKEN_EXPIRES=3600, JWT_REFRESH_TOKEN_EXPIRES=30 * 24 * 3600)
    with app.app_context():
        yield


@pytest.mark.usefixtures("lifetimes")
@pytest.mark.parametrize("subject", SUBJECTS)
def test_a_sub_that_is_not_an_id_is_not_well_formed(subject):
    claims = {"sub": subject, "jti": "j1", "type": "access", "exp": int(time.time()) + 60}

    assert not well_formed(claims)
    assert well_formed({**claims, "sub": str(ObjectId())})


@pytest.mark.parametrize(("method", "path", "subject"),
                         [(*route, subject) for route, subject in zip(ROUTES, SUBJECTS, strict=True)])
def test_a_token_whose_sub_is_not_an_id_is_401(app, client, database, method, path, subject):
    """Every route, each with another of the subjects."""
    body = {"eventId": "6b06d3c37bbe849cee143ee7", "ticketId": "6b06d3c37bbe849cee143ee7", "amount": 1}

    response = getattr(client, method)(path, json=body if method == "post" else None,
                                       headers={**bearer(forged(app, subject)), "Idempotency-Key": "k1"})

    assert response.status_code == 401, response.json
    assert response.json == {"message": "Invalid token", "code": "unauthorized"}
    assert sum(documents(database).values()) == 0


def test_logout_with_such_a_token_still_answers_200(app, client):
    response = client.post("/auth/logout", headers=bearer(forged(app, "not-an-id")))

    assert response.status_code == 200


def test_a_valid_id_of_nobody_is_still_user_not_found(app, client):
    response = client.get("/auth/tickets", headers=bearer(forged(app, "6b06d3c37bbe849cee143ee7", role="user")))

    assert response.status_code == 404
    assert response.json["message"] == "User not found"


def signed_claims(app, **claims):
    """A token with exactly these claims, signed with the app's key."""
    base = {"sub": str(ObjectId()), "jti": "j1", "type": "access", "fresh": False, "iat": int(time.time())}
    return jwt.encode({**base, **claims}, app.config["JWT_SECRET_KEY"], algorithm="HS256")


EXPIRIES = {"none": None, "far": 10**20, "text": "soon", "past-any-lifetime": int(time.time()) + 400 * 24 * 3600}


@pytest.mark.parametrize("expiry", EXPIRIES.values(), ids=EXPIRIES.keys())
def test_a_token_whose_expiry_is_not_ours_is_refused_and_logout_still_answers(app, client, auth, expiry):
    user = auth.signup()
    claims = {"sub": user["_id"]} | ({"exp": expiry} if expiry is not None else {})
    token = signed_claims(app, **claims)

    assert client.get("/auth/me", headers=bearer(token)).status_code == 401
    assert client.post("/auth/logout", headers=bearer(token)).status_code == 200
    assert client.post("/auth/logout", json={"refreshToken": token}).status_code == 200
