"""Every way a token can be wrong is a 401 with a JSON body; revocation holds across apps."""

import base64
import json
import threading
from datetime import timedelta

import pytest
from flask_jwt_extended import create_access_token

from support import bearer


def b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def token_parts(headers):
    return headers["Authorization"].split()[1].split(".")


def test_a_valid_token_passes(client, auth):
    assert client.get("/auth/tickets", headers=auth.user_headers()).status_code == 200


def forged_tokens(app, headers):
    header, payload, signature = token_parts(headers)
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    with app.app_context():
        expired = create_access_token(identity=claims["sub"], expires_delta=timedelta(seconds=-10))
    return {
        "missing": {},
        "not bearer": {"Authorization": "Token " + ".".join([header, payload, signature])},
        "malformed": {"Authorization": "Bearer abc.def"},
        "garbage": {"Authorization": "Bearer " + "x" * 40},
        "expired": bearer(expired),
        "bad signature": bearer(f"{header}.{payload}.{signature[:-4]}AAAA"),
        "tampered claims": bearer(f"{header}.{b64({**claims, 'role': 'admin'})}.{signature}"),
        "alg none": bearer(f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}."),
        "other key": bearer(other_key_token(claims)),
    }


def other_key_token(claims):
    import jwt

    return jwt.encode(claims, "not-our-secret-" + "y" * 32, algorithm="HS256")


@pytest.mark.parametrize(
    "case",
    ["missing", "not bearer", "malformed", "garbage", "expired", "bad signature", "tampered claims",
     "alg none", "other key"],
)
def test_every_bad_token_is_401_json(app, client, auth, case):
    headers = forged_tokens(app, auth.user_headers())[case]

    response = client.get("/auth/tickets", headers=headers)

    assert response.status_code == 401
    assert response.is_json
    assert set(response.json) == {"message", "code"}
    assert response.json["message"]
    assert response.json["code"] == "unauthorized"


def test_a_revoked_token_is_refused_by_another_app_on_the_same_database(make_app, client, auth):
    headers = auth.user_headers()
    assert client.post("/auth/logout", headers=headers).status_code == 200

    response = make_app().test_client().get("/auth/tickets", headers=headers)

    assert response.status_code == 401
    assert response.json == {"message": "Token has been revoked", "code": "unauthorized"}


def test_twenty_racing_signups_with_one_email_make_one_user(app, database):
    results = []
    barrier = threading.Barrier(20)

    def sign_up(n):
        client = app.test_client()
        barrier.wait()
        body = {"username": f"racer{n}", "email": "same@example.com", "password": "password123"}
        results.append(client.post("/auth/signup", json=body).status_code)

    threads = [threading.Thread(target=sign_up, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [201] + [409] * 19
    assert database.users.count_documents({"email": "same@example.com"}) == 1
