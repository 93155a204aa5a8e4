"""Every row of API.md's Auth table, through the HTTP client, against the real database."""

from datetime import UTC, datetime

import pytest
from bson import ObjectId
from flask_jwt_extended import decode_token

from support import PASSWORD, bearer, refused, reserve
from ticket_api.auth.schemas import LoginSchema, SignupSchema

TIMESTAMPS_AND_VERSION = {"createdAt", "updatedAt", "__v"}
OPERATORS = [{"$ne": None}, {"$regex": ".*"}, {"$gt": ""}]


def signup_body(**overrides):
    return {"username": "ada", "email": "ada@example.com", "password": PASSWORD, **overrides}


def test_signup_creates_a_plain_user(client, database):
    response = client.post("/auth/signup", json=signup_body(email="Ada@Example.COM"))

    assert response.status_code == 201
    body = response.json
    assert set(body) == {"_id", "username", "email", "role", "createdAt", "updatedAt", "__v"}
    assert body["username"] == "ada"
    assert body["email"] == "ada@example.com"
    assert body["role"] == "user"
    assert body["__v"] == 0
    assert body["createdAt"] == body["updatedAt"]
    assert body["createdAt"].endswith("Z") and len(body["createdAt"]) == 24
    stored = database.users.find_one({"_id": ObjectId(body["_id"])})
    assert stored["email"] == "ada@example.com"
    assert stored["passwordHash"].startswith("$2b$04$")
    assert PASSWORD not in str(stored)


def test_signup_ignores_mass_assignment(client, database):
    forged_id = "5f0000000000000000000000"
    body = signup_body(role="admin", _id=forged_id, __v=7, isAdmin=True, createdAt="2000-01-01")

    response = client.post("/auth/signup", json=body)

    assert response.status_code == 201
    assert response.json["role"] == "user"
    assert response.json["_id"] != forged_id
    assert response.json["__v"] == 0
    stored = database.users.find_one({"_id": ObjectId(response.json["_id"])})
    assert set(stored) == {"_id", "username", "email", "passwordHash", "role", *TIMESTAMPS_AND_VERSION}
    assert stored["role"] == "user"


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"username": "ab"}, "username"),
        ({"username": "a" * 33}, "username"),
        ({"username": "ada lovelace"}, "username"),
        ({"username": "ada<script>"}, "username"),
        ({"username": 123}, "username"),
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"email": ["ada@example.com"]}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "x" * 73}, "password"),
        ({"password": "é" * 37}, "password"),  # 37 characters, 74 bytes
        ({"password": 12345678}, "password"),
        ({"password": None}, "password"),
    ],
)
def test_signup_refuses_invalid_fields(overrides, field):
    assert list(refused(SignupSchema, signup_body(**overrides))) == [field]


def test_signup_rejects_invalid_fields(client, database):
    response = client.post("/auth/signup", json=signup_body(username="ada lovelace"))

    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"
    assert list(response.json["errors"]["json"]) == ["username"]
    assert database.users.count_documents({}) == 0


@pytest.mark.parametrize("missing", ["username", "email", "password"])
def test_signup_requires_every_field(missing):
    body = signup_body()
    del body[missing]

    assert refused(SignupSchema, body) == {missing: ["Missing data for required field."]}


def test_signup_without_a_field_is_400(client):
    body = signup_body()
    del body["email"]

    response = client.post("/auth/signup", json=body)

    assert response.status_code == 400
    assert response.json["errors"]["json"] == {"email": ["Missing data for required field."]}


def test_password_of_exactly_72_bytes_is_accepted_and_checked_in_full(client, auth):
    password = "é" * 36  # 72 bytes
    user = auth.signup(password=password)

    assert auth.login(user["email"], password)
    wrong_last_byte = client.post("/auth/login", json={"email": user["email"], "password": "é" * 35 + "e"})
    assert wrong_last_byte.status_code == 400


@pytest.mark.parametrize("field", ["username", "email", "password"])
@pytest.mark.parametrize("operator", OPERATORS)
def test_signup_refuses_operator_objects(field, operator):
    assert field in refused(SignupSchema, signup_body(**{field: operator}))


def test_signup_rejects_operator_objects(client, database):
    response = client.post("/auth/signup", json=signup_body(email={"$ne": None}))

    assert response.status_code == 400
    assert "email" in response.json["errors"]["json"]
    assert database.users.count_documents({}) == 0


@pytest.mark.parametrize("field", ["email", "password"])
@pytest.mark.parametrize("operator", OPERATORS)
def test_login_refuses_operator_objects(field, operator):
    assert field in refused(LoginSchema, {"email": "ada@example.com", "password": PASSWORD, field: operator})


def test_login_rejects_operator_objects(client, auth):
    auth.signup(email="ada@example.com")
    body = {"email": "ada@example.com", "password": {"$regex": ".*"}}

    response = client.post("/auth/login", json=body)

    assert response.status_code == 400
    assert "token" not in response.json
    assert "password" in response.json["errors"]["json"]


def test_signup_with_a_taken_email_any_case_is_409(client, auth):
    auth.signup(email="ada@example.com")

    response = client.post("/auth/signup", json=signup_body(username="other", email="ADA@example.com"))

    assert response.status_code == 409
    assert response.json == {"message": "User already exists", "code": "user_exists"}


def test_signup_with_a_taken_username_any_case_is_409(client, auth, database):
    auth.signup(username="ada")

    response = client.post("/auth/signup", json=signup_body(username="ADA", email="other@example.com"))

    assert response.status_code == 409
    assert response.json == {"message": "User already exists", "code": "user_exists"}
    assert database.users.count_documents({}) == 1


def test_login_returns_a_token(client, auth):
    user = auth.signup(username="ada", email="ada@example.com")

    response = client.post("/auth/login", json={"email": "ADA@example.com", "password": PASSWORD})

    assert response.status_code == 201
    body = response.json
    assert body == {"message": "Logged in", "success": True, "token": body["token"],
                    "refreshToken": body["refreshToken"], "email": user["email"], "username": "ada", "role": "user"}
    assert client.get("/auth/tickets", headers=bearer(body["token"])).status_code == 200
    assert client.post("/auth/refresh", headers=bearer(body["refreshToken"])).status_code == 201


def test_login_of_an_unknown_email_is_404(client):
    response = client.post("/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})

    assert response.status_code == 404
    assert response.json == {"message": "User not found", "code": "user_not_found"}


def test_login_with_a_wrong_password_is_400(client, auth):
    user = auth.signup()

    response = client.post("/auth/login", json={"email": user["email"], "password": "wrong password"})

    assert response.status_code == 400
    assert response.json == {"message": "Invalid credentials", "code": "invalid_credentials"}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"password": PASSWORD}, "email"),
        ({"email": "ada@example.com"}, "password"),
        ({"email": "ada@example.com", "password": ""}, "password"),
        ({"email": "ada@example.com", "password": "x" * 73}, "password"),
        ({"email": 5, "password": PASSWORD}, "email"),
    ],
)
def test_login_refuses_invalid_data(body, field):
    assert field in refused(LoginSchema, body)


def test_login_rejects_invalid_data(client):
    response = client.post("/auth/login", json={"email": 5, "password": PASSWORD})

    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"
    assert "email" in response.json["errors"]["json"]


def test_logout_revokes_the_token_at_once(app, client, auth, database):
    headers = auth.user_headers()

    response = client.post("/auth/logout", headers=headers)

    assert response.status_code == 200
    assert response.json == {"message": "Logged out"}
    refused = client.get("/auth/tickets", headers=headers)
    assert refused.status_code == 401
    assert refused.json == {"message": "Token has been revoked", "code": "unauthorized"}
    with app.app_context():
        claims = decode_token(headers["Authorization"].split()[1])
    revoked = database.revoked_tokens.find_one()
    assert revoked["_id"] == claims["jti"]
    assert revoked["expiresAt"] == datetime.fromtimestamp(claims["exp"], UTC)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": "Bearer not.a.jwt"}, {"Authorization": "Basic abc"}],
)
def test_logout_without_a_usable_token_still_logs_out(client, headers, database):
    response = client.post("/auth/logout", headers=headers)

    assert response.status_code == 200
    assert response.json == {"message": "Logged out"}
    assert database.revoked_tokens.count_documents({}) == 0


def test_logout_twice_is_fine(client, auth):
    headers = auth.user_headers()

    assert client.post("/auth/logout", headers=headers).status_code == 200
    assert client.post("/auth/logout", headers=headers).status_code == 200


def test_my_tickets_is_empty_for_a_new_user(client, auth):
    response = client.get("/auth/tickets", headers=auth.user_headers())

    assert response.status_code == 200
    assert response.json == []


@pytest.mark.parametrize("path", ["/auth/tickets", "/auth/me"])
def test_the_callers_own_routes_need_a_token(client, path):
    response = client.get(path)

    assert response.status_code == 401
    assert response.json == {"message": "Missing or malformed token", "code": "unauthorized"}


@pytest.mark.parametrize("path", ["/auth/tickets", "/auth/me"])
def test_the_callers_own_routes_of_a_deleted_user_are_404(client, auth, database, path):
    user = auth.signup()
    headers = bearer(auth.login(user["email"]))
    database.users.delete_one({"_id": ObjectId(user["_id"])})

    response = client.get(path, headers=headers)

    assert response.status_code == 404
    assert response.json == {"message": "User not found", "code": "user_not_found"}


def test_no_response_shows_a_password_or_its_hash(client, auth, database):
    user = auth.signup(password="my secret password")
    responses = [
        client.post("/auth/signup", json=signup_body(email=user["email"], password="my secret password")),
        client.post("/auth/login", json={"email": user["email"], "password": "my secret password"}),
        client.post("/auth/login", json={"email": user["email"], "password": "wrong password"}),
        client.post("/auth/signup", json=signup_body(password="x" * 80)),
    ]
    token = responses[1].json["token"]
    responses.append(client.get("/auth/tickets", headers=bearer(token)))
    responses.append(client.get("/auth/me", headers=bearer(token)))
    responses.append(client.post("/auth/refresh", headers=bearer(responses[1].json["refreshToken"])))
    responses.append(client.post("/auth/logout", headers=bearer(token)))
    password_hash = database.users.find_one()["passwordHash"]

    for response in responses:
        text = response.get_data(as_text=True)
        assert "my secret password" not in text
        assert password_hash not in text
        assert "$2b$" not in text
        assert "password" not in (response.json if isinstance(response.json, dict) else {})


def test_a_password_with_a_tab_still_signs_up_and_logs_in(client):
    """Tabs and line breaks were always allowed in passwords: nobody who chose one is locked out."""
    body = {"username": "tabby", "email": "tabby@example.com", "password": "correct\thorse battery"}

    assert client.post("/auth/signup", json=body).status_code == 201
    assert client.post("/auth/login", json={"email": body["email"], "password": body["password"]}).status_code == 201


def test_me_is_the_callers_account_as_signup_showed_it(client, auth):
    user = auth.signup(username="ada", email="ada@example.com")
    del user["password"]

    response = client.get("/auth/me", headers=bearer(auth.login(user["email"])))

    assert response.status_code == 200
    assert response.json == user


def test_me_shows_the_role_the_user_has_now(client, auth, database):
    user = auth.signup()
    headers = bearer(auth.login(user["email"]))
    database.users.update_one({"_id": ObjectId(user["_id"])}, {"$set": {"role": "admin"}})

    assert client.get("/auth/me", headers=headers).json["role"] == "admin"



@pytest.fixture
def five_tickets(client, auth, events):
    """(headers, the ids of the caller's 5 tickets newest first); another user holds one too."""
    event = events.create(capacity=20, price=0)
    headers = auth.user_headers()
    ids = [reserve(client, headers, event).json["_id"] for _ in range(5)]
    assert reserve(client, auth.user_headers(), event).status_code == 201
    return headers, ids[::-1]


def test_my_tickets_without_paging_are_every_ticket_with_the_total(client, five_tickets):
    headers, ids = five_tickets

    response = client.get("/auth/tickets", headers=headers)

    assert response.status_code == 200
    assert [ticket["_id"] for ticket in response.json] == ids
    assert response.headers["X-Total-Count"] == "5"


@pytest.mark.parametrize(
    "query, shown",
    [("?limit=2", slice(0, 2)), ("?page=2&limit=2", slice(2, 4)), ("?page=3&limit=2", slice(4, 5)),
     ("?page=2", slice(0, 0)), ("?page=1", slice(0, 5))],
)
def test_my_tickets_by_page(client, five_tickets, query, shown):
    headers, ids = five_tickets

    response = client.get(f"/auth/tickets{query}", headers=headers)

    assert response.status_code == 200
    assert [ticket["_id"] for ticket in response.json] == ids[shown]
    assert response.headers["X-Total-Count"] == "5"
    assert {ticket["event"]["name"] for ticket in response.json} <= {"Jazz night"}


@pytest.mark.parametrize(
    "query, field", [("?page=0", "page"), ("?limit=501", "limit"), ("?limit=0", "limit"), ("?page=abc", "page")]
)
def test_my_tickets_refuses_a_bad_page(client, auth, query, field):
    response = client.get(f"/auth/tickets{query}", headers=auth.user_headers())

    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"
    assert list(response.json["errors"]["query"]) == [field]
