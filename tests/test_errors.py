"""Every failure is JSON `{"message": ..., "code": ...}`, with the right status, and changes nothing."""

import logging

import pytest


def test_unknown_route_is_404_json(client):
    response = client.get("/no/such/route")

    assert response.status_code == 404
    assert response.json == {"message": "Not Found", "code": "not_found"}


def test_wrong_method_is_405_json(client):
    response = client.delete("/auth/login")

    assert response.status_code == 405
    assert response.json == {"message": "Method Not Allowed", "code": "method_not_allowed"}


def test_body_over_one_mebibyte_is_413_json(client, database):
    body = '{"username": "ada", "email": "ada@example.com", "password": "' + "x" * (1024 * 1024) + '"}'

    response = client.post("/auth/signup", data=body, content_type="application/json")

    assert response.status_code == 413
    assert response.json == {"message": "Request Entity Too Large", "code": "payload_too_large"}
    assert database.users.count_documents({}) == 0


@pytest.mark.parametrize("body", ['{"email": ', "not json", '{"a": 1}}', "\x00\xff"])
def test_malformed_json_is_400_json(client, body):
    response = client.post("/auth/signup", data=body, content_type="application/json")

    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"
    assert response.json["errors"] == {"json": ["Invalid JSON body."]}


def test_a_body_that_is_not_json_is_415_json(client, database):
    response = client.post(
        "/auth/signup", data="username=ada&email=ada@example.com&password=password123",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 415
    assert response.json["code"] == "unsupported_media_type"
    assert database.users.count_documents({}) == 0


@pytest.mark.parametrize("body", [[], ["a"], "text", 42, None, True])
def test_a_json_body_that_is_not_an_object_is_400(client, body):
    response = client.post("/auth/signup", json=body)

    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"


def test_a_bug_is_500_with_no_detail_and_a_logged_traceback(new_app, caplog):
    def broken():
        raise RuntimeError("secret internals")

    app = new_app()  # a route of its own
    app.add_url_rule("/broken", "broken", broken)

    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/broken")

    assert response.status_code == 500
    assert response.json == {"message": "Internal server error", "code": "internal_error"}
    assert "secret internals" not in response.get_data(as_text=True)
    assert "secret internals" in caplog.text
    assert "Traceback" in caplog.text
