"""Admins and door staff are made by an operator on the server, never through the API."""

import pytest

from support import bearer
from ticket_api.security import admin_required, door_required


@pytest.fixture
def app(new_app):
    """An app of its own, with two routes of the tests'."""
    app = new_app()

    @admin_required
    def staff_only():
        return {"message": "hello staff"}

    @door_required
    def door_only():
        return {"message": "hello door"}

    app.add_url_rule("/staff-only", "staff_only", staff_only)
    app.add_url_rule("/door-only", "door_only", door_only)
    return app


def test_promote_admin_grants_the_role(runner, auth, database):
    user = auth.signup(email="staff@example.com")

    result = runner.invoke(args=["promote-admin", "STAFF@example.com"])

    assert result.exit_code == 0, result.output
    assert "staff@example.com" in result.output
    stored = database.users.find_one({"email": "staff@example.com"})
    assert stored["role"] == "admin"
    assert stored["__v"] == 1
    assert stored["updatedAt"] >= stored["createdAt"]
    assert user["role"] == "user"


def test_promote_admin_of_an_unknown_email_fails_clearly(runner):
    result = runner.invoke(args=["promote-admin", "nobody@example.com"])

    assert result.exit_code == 1
    assert "no user with email nobody@example.com" in result.output


def test_the_promoted_users_next_token_passes_admin_required(client, runner, auth):
    staff = auth.signup()
    plain_headers = auth.user_headers()
    runner.invoke(args=["promote-admin", staff["email"]])

    admin_response = client.get("/staff-only", headers=bearer(auth.login(staff["email"])))
    plain_response = client.get("/staff-only", headers=plain_headers)
    anonymous = client.get("/staff-only")

    assert admin_response.status_code == 200
    assert plain_response.status_code == 403
    assert plain_response.json == {"message": "Admins only", "code": "forbidden"}
    assert anonymous.status_code == 401


def test_a_demoted_admin_loses_access_at_once(client, auth, database):
    headers = auth.admin_headers()
    assert client.get("/staff-only", headers=headers).status_code == 200

    database.users.update_many({}, {"$set": {"role": "user"}})

    assert client.get("/staff-only", headers=headers).status_code == 403


def reaches(client, headers):
    """(staff-only, door-only): the statuses this user gets."""
    return client.get("/staff-only", headers=headers).status_code, client.get("/door-only", headers=headers).status_code


def test_set_role_gives_each_role_its_routes_at_once(client, runner, auth, database):
    staff = auth.signup(email="staff@example.com")
    headers = bearer(auth.login(staff["email"]))
    assert reaches(client, headers) == (403, 403)
    refused = {"message": "Door staff and admins only", "code": "forbidden"}
    assert client.get("/door-only", headers=headers).json == refused

    result = runner.invoke(args=["set-role", "Staff@Example.com", "door"])

    assert result.exit_code == 0, result.output
    assert result.output == f"staff@example.com ({staff['username']}) now has the role door\n"
    stored = database.users.find_one({"email": "staff@example.com"})
    assert (stored["role"], stored["__v"]) == ("door", 1)
    assert reaches(client, headers) == (403, 200)
    runner.invoke(args=["set-role", "staff@example.com", "admin"])
    assert reaches(client, headers) == (200, 200)
    runner.invoke(args=["set-role", "staff@example.com", "user"])
    assert reaches(client, headers) == (403, 403)


def test_set_role_of_an_unknown_email_fails_clearly(runner, database):
    result = runner.invoke(args=["set-role", "nobody@example.com", "door"])

    assert result.exit_code == 1
    assert "no user with email nobody@example.com: sign up first" in result.output
    assert database.users.count_documents({}) == 0


def test_set_role_refuses_a_role_that_does_not_exist(runner, auth, database):
    auth.signup(email="staff@example.com")

    result = runner.invoke(args=["set-role", "staff@example.com", "superuser"])

    assert result.exit_code == 2
    assert "'superuser' is not one of 'user', 'door', 'admin'" in result.output
    assert database.users.find_one({"email": "staff@example.com"})["role"] == "user"
