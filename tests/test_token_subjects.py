"""A token signed with the right key whose `sub` is not a user id (a slip in another
service sharing the key, or a forger who has it) is a 401 on every route, never a 500."""

import pytest
from flask_jwt_extended import create_access_token

from support import bearer

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


@pytest.mark.parametrize("subject", SUBJECTS)
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_token_whose_sub_is_not_an_id_is_401(app, client, database, method, path, subject):
    body = {"eventId": "6b06d3c37bbe849cee143ee7", "ticketId": "6b06d3c37bbe849cee143ee7", "amount": 1}

    response = getattr(client, method)(path, json=body if method == "post" else None,
                                       headers={**bearer(forged(app, subject)), "Idempotency-Key": "k1"})

    assert response.status_code == 401, response.json
    assert response.json == {"message": "Invalid token"}
    assert sum(database[name].count_documents({}) for name in database.list_collection_names()) == 0


def test_logout_with_such_a_token_still_answers_200(app, client):
    response = client.post("/auth/logout", headers=bearer(forged(app, "not-an-id")))

    assert response.status_code == 200


def test_a_valid_id_of_nobody_is_still_user_not_found(app, client):
    response = client.get("/auth/tickets", headers=bearer(forged(app, "6b06d3c37bbe849cee143ee7", role="user")))

    assert response.status_code == 404
    assert response.json["message"] == "User not found"
