"""No account that passes for another: emails are ASCII once the domain is IDNA-encoded and
hold no invisible or control characters; usernames staff would be mistaken for are taken."""

import marshmallow as ma
import pytest

from support import PASSWORD
from ticket_api.auth.schemas import SignupSchema, is_reserved

LOOKALIKE_EMAILS = {
    "zero-width space before the @": "ada\u200b@example.com",
    "zero-width space in the domain": "ada@exa\u200bmple.com",
    "zero-width joiner": "a\u200dda@example.com",
    "soft hyphen in the local part": "a\u00adda@example.com",
    "soft hyphen in the domain": "ada@exam\u00adple.com",
    "right-to-left override": "ada@example.com\u202e",
    "left-to-right mark": "\u200eada@example.com",
    "byte order mark": "\ufeffada@example.com",
    "word joiner": "ada@example\u2060.com",
    "hangul filler": "ada@\u3164example.com",
    "variation selector": "ada@example\ufe0f.com",
    "NUL": "ada\x00@example.com",
    "escape": "ada@example.com\x1b",
    "C1 control": "ada@exa\x85mple.com",
    "Cyrillic a before the @": "\u0430da@example.com",
    "all Cyrillic before the @": "\u0430\u0441\u0435@example.com",
    "Greek omicron before the @": "b\u03bfb@example.com",
    "fullwidth letters before the @": "\uff41da@example.com",
    "accented letter before the @": "ad\u00e0@example.com",
    "an empty label in the domain": "ada@exa..mple.com",
    "a label starting with a hyphen": "ada@-example.com",
    "a symbol IDNA 2008 disallows": "ada@\u2603.com",
}


def signup(client, email, username="ada"):
    return client.post("/auth/signup", json={"username": username, "email": email, "password": PASSWORD})


@pytest.mark.parametrize("case", list(LOOKALIKE_EMAILS))
def test_a_lookalike_email_is_refused_by_the_signup_schema(case):
    with pytest.raises(ma.ValidationError) as refused:
        SignupSchema().load({"username": "ada", "email": LOOKALIKE_EMAILS[case], "password": PASSWORD})

    assert list(refused.value.messages) == ["email"]


def test_a_lookalike_email_is_refused_at_signup_and_changes_nothing(client, database):
    response = signup(client, LOOKALIKE_EMAILS["zero-width space before the @"])

    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"
    assert list(response.json["errors"]["json"]) == ["email"]
    assert database.users.count_documents({}) == 0


@pytest.mark.parametrize(
    "case", ["zero-width space in the domain", "Cyrillic a before the @", "soft hyphen in the domain"]
)
def test_a_lookalike_email_is_refused_at_login(client, auth, case):
    auth.signup(email="ada@example.com")

    response = client.post("/auth/login", json={"email": LOOKALIKE_EMAILS[case], "password": PASSWORD})

    assert response.status_code == 400
    assert "email" in response.json["errors"]["json"]
    assert "token" not in response.json


def test_the_reasons_say_what_is_wrong(client):
    invisible = signup(client, LOOKALIKE_EMAILS["zero-width space in the domain"]).json["errors"]["json"]["email"]
    cyrillic = signup(client, LOOKALIKE_EMAILS["Cyrillic a before the @"]).json["errors"]["json"]["email"]

    assert invisible == ["No invisible or control characters."]
    assert cyrillic == ["Before the @ only ASCII letters, digits and punctuation."]


def test_an_international_domain_is_stored_in_its_ascii_form(client, auth, database):
    response = signup(client, "Ada@B\u00fccher.example")

    assert response.status_code == 201
    assert response.json["email"] == "ada@xn--bcher-kva.example"
    assert database.users.find_one()["email"] == "ada@xn--bcher-kva.example"
    assert auth.login("ada@b\u00fccher.example")
    assert auth.login("ada@xn--bcher-kva.example")


def test_the_domain_is_read_as_idna_2008_reads_it(client):
    response = signup(client, "ada@stra\u00dfe.de")

    assert response.status_code == 201
    assert response.json["email"] == "ada@xn--strae-oqa.de"  # IDNA 2003 would say strasse.de


def test_a_cyrillic_letter_in_the_domain_makes_a_visibly_different_address(client):
    response = signup(client, "ada@ex\u0430mple.com")

    assert response.status_code == 201
    assert response.json["email"] == "ada@xn--exmple-4nf.com"


def test_another_spelling_of_a_taken_email_is_the_same_email(client, auth, database):
    auth.signup(username="ada", email="ada@example.com")

    response = signup(client, "ADA@\uff45xample.COM", username="other")

    assert response.status_code == 409
    assert database.users.count_documents({}) == 1
    assert auth.login("ada@\uff45xample.com")


RESERVED = ["admin", "administrator", "root", "staff", "door", "support", "system", "ticket_api"]


@pytest.mark.parametrize(
    "username", [*RESERVED, "Admin", "ROOT", "Ticket_API", "ticket-api", "ticket.api", "ticketapi", "ad.min", "-staff-"]
)
def test_a_reserved_username_is_reserved(username):
    assert is_reserved(username)


def test_a_reserved_username_is_409_username_reserved(client, database):
    response = signup(client, "someone@example.com", username="Ticket_API")

    assert response.status_code == 409
    assert response.json == {"message": "This username is reserved", "code": "username_reserved"}
    assert database.users.count_documents({}) == 0


@pytest.mark.parametrize("username", ["admiral", "doorman", "roots", "staffan", "sys", "ticket_apis", "supporter"])
def test_names_that_only_start_like_a_reserved_one_are_free(username):
    assert not is_reserved(username)
    assert SignupSchema().load({"username": username, "email": f"{username}@example.com", "password": PASSWORD})


def test_a_name_that_only_starts_like_a_reserved_one_signs_up(client):
    assert signup(client, "doorman@example.com", username="doorman").status_code == 201


def test_usernames_are_compared_in_any_case(client, auth, database):
    auth.signup(username="Grace", email="grace@example.com")

    response = signup(client, "other@example.com", username="gRACE")

    assert response.status_code == 409
    assert response.json == {"message": "User already exists", "code": "user_exists"}
    assert [user["username"] for user in database.users.find()] == ["Grace"]
