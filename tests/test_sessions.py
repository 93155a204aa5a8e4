"""Sessions: refresh tokens (`/auth/refresh`), logout of both tokens, and password changes
that end every session started under the old password."""

import base64
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId
from flask_jwt_extended import create_refresh_token, decode_token

from support import PASSWORD, bearer, command_on, db_id, operations
from ticket_api import db
from ticket_api.stores import revoked_tokens

NEW_PASSWORD = "a brand new horse"
REVOKED = {"message": "Token has been revoked", "code": "unauthorized"}
PASSWORD_CHANGED_REFUSAL = {"message": "Token has been revoked", "code": "unauthorized"}
INVALID_TOKEN = {"message": "Invalid token", "code": "unauthorized"}
USER_NOT_FOUND = {"message": "User not found", "code": "user_not_found"}
INVALID_CREDENTIALS = {"message": "Invalid credentials", "code": "invalid_credentials"}


def log_in(client, email, password=PASSWORD):
    response = client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def ada(auth):
    return auth.signup(username="ada", email="ada@example.com")


@pytest.fixture
def session(client, ada):
    """Ada's login reply: `token` and `refreshToken`."""
    return log_in(client, ada["email"])


def claims(app, token):
    with app.app_context():
        return decode_token(token)


def refresh(client, refresh_token):
    return client.post("/auth/refresh", headers=bearer(refresh_token))


def change_password(client, token, current=PASSWORD, new=NEW_PASSWORD):
    return client.post("/auth/password", json={"currentPassword": current, "newPassword": new}, headers=bearer(token))


# Refresh tokens


def test_login_gives_a_refresh_token_of_the_configured_lifetime(make_app, ada):
    for app, lifetime in ((make_app(), 30 * 24 * 3600), (make_app(JWT_REFRESH_TOKEN_EXPIRES=120), 120)):
        refresh_claims = claims(app, log_in(app.test_client(), ada["email"])["refreshToken"])

        assert refresh_claims["type"] == "refresh"
        assert refresh_claims["sub"] == ada["_id"]
        assert refresh_claims["exp"] - refresh_claims["iat"] == lifetime


def test_a_refresh_token_gives_a_new_access_token(app, client, session):
    response = refresh(client, session["refreshToken"])

    assert response.status_code == 201
    assert response.json == {"token": response.json["token"]}
    new_claims = claims(app, response.json["token"])
    assert new_claims["type"] == "access"
    assert new_claims["jti"] != claims(app, session["token"])["jti"]
    assert client.get("/auth/me", headers=bearer(response.json["token"])).status_code == 200


def test_the_new_access_token_carries_the_role_the_user_has_now(app, client, database, ada, session):
    database.users.update_one({"_id": db_id(ada)}, {"$set": {"role": "admin"}})

    token = refresh(client, session["refreshToken"]).json["token"]

    assert claims(app, token)["role"] == "admin"


def test_an_access_token_is_not_a_refresh_token(client, session):
    response = refresh(client, session["token"])

    assert response.status_code == 401
    assert response.json == INVALID_TOKEN


@pytest.mark.parametrize(
    "method, path, body",
    [("GET", "/auth/me", None), ("GET", "/auth/tickets", None),
     ("POST", "/auth/password", {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD})],
)
def test_a_refresh_token_is_not_an_access_token(client, database, ada, session, method, path, body):
    response = client.open(path, method=method, json=body, headers=bearer(session["refreshToken"]))

    assert response.status_code == 401
    assert response.json == INVALID_TOKEN
    assert "passwordChangedAt" not in database.users.find_one({"_id": db_id(ada)})


def test_every_route_that_needs_an_access_token_refuses_a_refresh_token(app, client, session):
    """Walks the URL map: a route that refuses a request without a token refuses one with
    a refresh token too, and these are exactly the routes documented as needing a token
    (`/auth/refresh` aside: it takes the refresh token)."""
    needs_token = set()
    for rule in app.url_map.iter_rules():
        if "path" in rule.rule or rule.rule == "/auth/refresh":
            continue  # static files, and the one route a refresh token is for
        url = re.sub(r"<objectid:\w+>", str(ObjectId()), rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            without = client.open(url, method=method, json={})
            if without.status_code != 401:
                continue
            needs_token.add((re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower()))
            refused = client.open(url, method=method, json={}, headers=bearer(session["refreshToken"]))
            assert (refused.status_code, refused.json) == (401, INVALID_TOKEN), (rule.rule, method)

    spec = client.get("/openapi.json").json
    documented = {(path, method) for path, method, operation in operations(spec)
                  if operation["security"] == [{"bearerAuth": []}] and path != "/auth/refresh"}
    assert needs_token == documented


def test_an_expired_refresh_token_is_refused(app, client, ada):
    with app.app_context():
        expired = create_refresh_token(identity=ada["_id"], expires_delta=timedelta(seconds=-10))

    response = refresh(client, expired)

    assert response.status_code == 401
    assert response.json == {"message": "Token has expired", "code": "unauthorized"}


def b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def tampered(app, token, other_user_id):
    header, payload, signature = token.split(".")
    original = claims(app, token)
    return {
        "another user": f"{header}.{b64({**original, 'sub': other_user_id})}.{signature}",
        "longer life": f"{header}.{b64({**original, 'exp': original['exp'] + 10**6})}.{signature}",
        "bad signature": f"{header}.{payload}.{signature[:-4]}AAAA",
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
    }


@pytest.mark.parametrize("case", ["another user", "longer life", "bad signature", "alg none"])
def test_a_tampered_refresh_token_is_refused(app, client, auth, session, case):
    other = auth.signup()

    response = refresh(client, tampered(app, session["refreshToken"], other["_id"])[case])

    assert response.status_code == 401
    assert response.json == INVALID_TOKEN


def test_a_refresh_token_of_a_deleted_user_is_404(client, database, ada, session):
    database.users.delete_one({"_id": db_id(ada)})

    response = refresh(client, session["refreshToken"])

    assert response.status_code == 404
    assert response.json == USER_NOT_FOUND


# Logout


def test_logout_revokes_the_access_token_and_the_refresh_token_sent(app, client, database, session):
    response = client.post("/auth/logout", json={"refreshToken": session["refreshToken"]},
                           headers=bearer(session["token"]))

    assert response.status_code == 200
    assert response.json == {"message": "Logged out"}
    assert refresh(client, session["refreshToken"]).json == REVOKED
    assert client.get("/auth/me", headers=bearer(session["token"])).json == REVOKED
    for token in (session["token"], session["refreshToken"]):
        token_claims = claims(app, token)
        revoked = database.revoked_tokens.find_one({"_id": token_claims["jti"]})
        assert revoked["expiresAt"] == datetime.fromtimestamp(token_claims["exp"], UTC)


def test_logout_with_the_access_token_alone_leaves_the_refresh_token(client, session):
    assert client.post("/auth/logout", headers=bearer(session["token"])).status_code == 200

    assert refresh(client, session["refreshToken"]).status_code == 201


def test_logout_with_the_refresh_token_alone_revokes_it(client, session):
    """An access token that has expired: the refresh token can still be ended."""
    response = client.post("/auth/logout", json={"refreshToken": session["refreshToken"]})

    assert response.status_code == 200
    assert response.json == {"message": "Logged out"}
    assert refresh(client, session["refreshToken"]).json == REVOKED
    assert client.get("/auth/me", headers=bearer(session["token"])).status_code == 200


def test_logout_never_revokes_another_users_refresh_token(client, auth, session):
    other = auth.signup()
    others = log_in(client, other["email"])

    response = client.post("/auth/logout", json={"refreshToken": others["refreshToken"]},
                           headers=bearer(session["token"]))

    assert response.status_code == 200
    assert client.get("/auth/me", headers=bearer(session["token"])).json == REVOKED
    assert refresh(client, others["refreshToken"]).status_code == 201


@pytest.mark.parametrize("refresh_token", [None, "", "not.a.jwt", "x" * 300])
def test_logout_with_an_unusable_refresh_token_still_logs_out(client, database, refresh_token):
    response = client.post("/auth/logout", json={"refreshToken": refresh_token})

    assert response.status_code == 200
    assert response.json == {"message": "Logged out"}
    assert database.revoked_tokens.count_documents({}) == 0


def test_logout_with_an_empty_json_body_logs_out_and_a_mistyped_refresh_token_is_invalid_data(client, session):
    """Bare, or an empty body declared JSON, is a plain logout; a refreshToken that is not
    text is a client's bug, answered as on every route."""
    empty = client.post("/auth/logout", data=b"", content_type="application/json", headers=bearer(session["token"]))
    mistyped = client.post("/auth/logout", json={"refreshToken": 5})

    assert (empty.status_code, empty.json) == (200, {"message": "Logged out"})
    assert mistyped.status_code == 400
    assert mistyped.json == {"message": "Invalid data", "code": "invalid_data",
                             "errors": {"json": {"refreshToken": ["Not a valid string."]}}}


def test_logout_with_a_tampered_refresh_token_revokes_nothing(app, client, database, auth, session):
    other = auth.signup()

    forged = tampered(app, session["refreshToken"], other["_id"])["another user"]
    response = client.post("/auth/logout", json={"refreshToken": forged})

    assert response.status_code == 200
    assert database.revoked_tokens.count_documents({}) == 0


# Password changes


def test_a_password_change_ends_every_session_of_the_old_password(client, auth, ada, session):
    other_device = log_in(client, ada["email"])
    bystander = auth.user_headers()

    response = change_password(client, session["token"])

    assert response.status_code == 200
    assert response.json == {"message": "Password changed"}
    for tokens in (session, other_device):
        assert refresh(client, tokens["refreshToken"]).json == PASSWORD_CHANGED_REFUSAL
        assert client.get("/auth/me", headers=bearer(tokens["token"])).json == REVOKED
    assert client.get("/auth/me", headers=bystander).status_code == 200


def test_after_a_password_change_only_the_new_password_logs_in(client, ada, session):
    assert change_password(client, session["token"]).status_code == 200

    assert client.post("/auth/login", json={"email": ada["email"], "password": PASSWORD}).json == INVALID_CREDENTIALS
    assert log_in(client, ada["email"], NEW_PASSWORD)


def test_a_session_started_at_once_after_the_change_works(client, ada, session):
    """In the same second as the change, even: what decides is the password a token was
    issued under, not its `iat` (whole seconds)."""
    assert change_password(client, session["token"]).status_code == 200

    fresh = log_in(client, ada["email"], NEW_PASSWORD)

    assert client.get("/auth/me", headers=bearer(fresh["token"])).status_code == 200
    renewed = refresh(client, fresh["refreshToken"])
    assert renewed.status_code == 201
    assert client.get("/auth/me", headers=bearer(renewed.json["token"])).status_code == 200


def test_an_access_token_renewed_before_the_change_is_refused_after_it(client, session):
    renewed = refresh(client, session["refreshToken"]).json["token"]

    assert change_password(client, session["token"]).status_code == 200

    assert client.get("/auth/me", headers=bearer(renewed)).json == REVOKED


def test_a_second_change_ends_the_sessions_of_the_first(client, ada, session):
    assert change_password(client, session["token"]).status_code == 200
    between = log_in(client, ada["email"], NEW_PASSWORD)

    assert change_password(client, between["token"], NEW_PASSWORD, "a third horse battery").status_code == 200

    assert refresh(client, between["refreshToken"]).json == PASSWORD_CHANGED_REFUSAL
    assert client.get("/auth/me", headers=bearer(between["token"])).json == REVOKED
    latest = log_in(client, ada["email"], "a third horse battery")
    assert refresh(client, latest["refreshToken"]).status_code == 201


def test_a_password_change_is_stored_and_remembered_until_the_old_access_tokens_expire(
    make_app, database, ada
):
    client = make_app(JWT_ACCESS_TOKEN_EXPIRES=600).test_client()
    token = log_in(client, ada["email"])["token"]

    assert change_password(client, token).status_code == 200

    user = database.users.find_one({"_id": db_id(ada)})
    assert user["__v"] == 1
    assert user["passwordChangedAt"] == user["updatedAt"]
    assert user["passwordChangedAt"] > datetime.now(UTC) - timedelta(seconds=10)
    record = database.revoked_tokens.find_one({"_id": f"password:{ada['_id']}"})
    assert record["expiresAt"] == user["passwordChangedAt"] + timedelta(seconds=600)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert record["passwordStamp"] == (user["passwordChangedAt"] - epoch) // timedelta(milliseconds=1)


def test_once_the_record_lapses_old_refresh_tokens_stay_refused_and_new_sessions_work(client, database, ada, session):
    """The record lasts as long as the old access tokens; the user decides for refresh tokens."""
    assert change_password(client, session["token"]).status_code == 200
    fresh = log_in(client, ada["email"], NEW_PASSWORD)

    database.revoked_tokens.delete_one({"_id": f"password:{ada['_id']}"})  # what its TTL does

    assert refresh(client, session["refreshToken"]).json == PASSWORD_CHANGED_REFUSAL
    assert client.get("/auth/me", headers=bearer(fresh["token"])).status_code == 200
    assert refresh(client, fresh["refreshToken"]).status_code == 201


def test_two_changes_recorded_out_of_order_keep_the_newer(app, database):
    user_id = ObjectId()
    later = db.utcnow() + timedelta(hours=1)
    with app.app_context():
        revoked_tokens.revoke_tokens_of_older_passwords(user_id, password_stamp=2000, expires_at=later)
        revoked_tokens.revoke_tokens_of_older_passwords(
            user_id, password_stamp=1000, expires_at=later - timedelta(minutes=1))

    record = database.revoked_tokens.find_one({"_id": f"password:{user_id}"})
    assert (record["passwordStamp"], record["expiresAt"]) == (2000, later)


def test_a_wrong_current_password_changes_nothing(client, database, ada, session):
    before = database.users.find_one({"_id": db_id(ada)})

    response = change_password(client, session["token"], current="not my password")

    assert response.status_code == 400
    assert response.json == INVALID_CREDENTIALS
    assert database.users.find_one({"_id": db_id(ada)}) == before
    assert database.revoked_tokens.count_documents({}) == 0
    assert refresh(client, session["refreshToken"]).status_code == 201


@pytest.mark.parametrize(
    "body, field",
    [
        ({"currentPassword": PASSWORD, "newPassword": "short"}, "newPassword"),
        ({"currentPassword": PASSWORD, "newPassword": "é" * 37}, "newPassword"),
        ({"currentPassword": PASSWORD, "newPassword": {"$ne": None}}, "newPassword"),
        ({"currentPassword": PASSWORD}, "newPassword"),
        ({"newPassword": NEW_PASSWORD}, "currentPassword"),
        ({"currentPassword": "", "newPassword": NEW_PASSWORD}, "currentPassword"),
        ({"currentPassword": 12345678, "newPassword": NEW_PASSWORD}, "currentPassword"),
    ],
)
def test_a_password_change_validates_like_signup(client, database, ada, session, body, field):
    response = client.post("/auth/password", json=body, headers=bearer(session["token"]))

    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"
    assert list(response.json["errors"]["json"]) == [field]
    assert "passwordChangedAt" not in database.users.find_one({"_id": db_id(ada)})


def test_a_password_change_needs_a_token(client):
    response = client.post("/auth/password", json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD})

    assert response.status_code == 401
    assert response.json == {"message": "Missing or malformed token", "code": "unauthorized"}


def test_a_deleted_users_password_change_is_404(client, database, ada, session):
    database.users.delete_one({"_id": db_id(ada)})

    response = change_password(client, session["token"])

    assert response.status_code == 404
    assert response.json == USER_NOT_FOUND
    assert database.revoked_tokens.count_documents({}) == 0


def test_a_change_made_meanwhile_wins_and_the_later_one_is_refused(spied, database, ada, session):
    """The current password was checked against the hash read; a change that lands before
    the write makes that password no longer the current one."""
    other_hash = "$2b$04$" + "x" * 53
    spied.arm(command_on("find", "users"),
              lambda: database.users.update_one({"_id": db_id(ada)}, {"$set": {"passwordHash": other_hash}}))

    response = change_password(spied.app.test_client(), session["token"])

    spied.outcome()
    assert response.status_code == 400
    assert response.json == INVALID_CREDENTIALS
    assert database.users.find_one({"_id": db_id(ada)})["passwordHash"] == other_hash
    assert database.revoked_tokens.count_documents({}) == 0


def test_a_login_that_checked_the_old_password_just_before_the_change_gets_refused_tokens(
    spied, client, ada, session
):
    """The login read the old hash (and accepted the old password), then the password
    changed, then the login issued its tokens: they are of the old password, refused."""
    spied.arm(command_on("find", "users"), lambda: change_password(client, session["token"]))

    late = log_in(spied.app.test_client(), ada["email"])

    assert spied.outcome().status_code == 200
    assert refresh(client, late["refreshToken"]).json == PASSWORD_CHANGED_REFUSAL
    assert client.get("/auth/me", headers=bearer(late["token"])).json == REVOKED


class TestRateLimit:
    """A stolen access token cannot guess the password: wrong current passwords count as
    failed logins of the account's email, with the same limits."""

    @pytest.fixture
    def settings(self, settings):
        return {**settings, "RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN": "200 per minute",
                "RATELIMIT_LOGIN_EMAIL": "3 per minute", "RATELIMIT_LOGIN_EMAIL_ANY_ADDRESS": "50 per minute"}

    def test_wrong_current_passwords_are_limited(self, client, session):
        statuses = [change_password(client, session["token"], current=f"guess {n}").status_code for n in range(4)]

        assert statuses == [400, 400, 400, 429]
        refused = change_password(client, session["token"])
        assert refused.status_code == 429
        assert refused.json == {"message": "Too many requests (3 per 1 minute); try again later",
                                "code": "rate_limited"}
        assert 1 <= int(refused.headers["Retry-After"]) <= 60

    def test_they_count_with_failed_logins(self, client, ada, session):
        for n in range(2):
            assert change_password(client, session["token"], current=f"guess {n}").status_code == 400

        assert client.post("/auth/login", json={"email": ada["email"], "password": "guess"}).status_code == 400
        assert client.post("/auth/login", json={"email": ada["email"], "password": PASSWORD}).status_code == 429

    def test_a_right_current_password_counts_against_nothing(self, client, ada):
        for n in range(4):
            token = log_in(client, ada["email"], PASSWORD if n % 2 == 0 else NEW_PASSWORD)["token"]
            current, new = (PASSWORD, NEW_PASSWORD) if n % 2 == 0 else (NEW_PASSWORD, PASSWORD)
            assert change_password(client, token, current, new).status_code == 200
