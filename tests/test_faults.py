"""Single database commands made to fail (MongoDB's `failCommand` fail point, on the real
embedded server): every request ends in a JSON 5xx or succeeds on retry, and the data
stays consistent. The server runs with `retryWrites=false`, so nothing here leans on
retryable writes."""

import pytest
from bson import ObjectId
from pymongo import monitoring

from support import PASSWORD, bearer, intents_for, stored

SIGNUP = {"username": "ada", "email": "ada@example.com", "password": PASSWORD}


def assert_json_5xx(response):
    assert response.status_code in (500, 503), response.get_data(as_text=True)
    assert response.json["code"] == {500: "internal_error", 503: "database_unavailable"}[response.status_code]
    assert set(response.json) == {"message", "code"}


@pytest.mark.parametrize("close_connection", [False, True])
@pytest.mark.parametrize("command", ["update", "insert"])  # the seat update (the first), then the account's count
def test_a_failed_reservation_keeps_no_seat_and_a_retry_works(
    client, auth, events, database, fail_point, command, close_connection
):
    event = events.create(capacity=5)
    headers = auth.user_headers()
    fail_point(command, close_connection=close_connection)

    failed = client.post("/tickets", json={"eventId": event["_id"], "quantity": 2}, headers=headers)

    assert_json_5xx(failed)
    assert database.tickets.count_documents({}) == 0
    assert database.events.find_one()["seatsTaken"] == 0
    retried = client.post("/tickets", json={"eventId": event["_id"], "quantity": 2}, headers=headers)
    assert retried.status_code == 201
    assert database.events.find_one()["seatsTaken"] == 2


def test_a_failed_signup_leaves_no_half_user_and_a_retry_works(client, database, fail_point):
    fail_point("insert", close_connection=True)

    failed = client.post("/auth/signup", json=SIGNUP)

    assert_json_5xx(failed)
    assert database.users.count_documents({}) == 0
    assert client.post("/auth/signup", json=SIGNUP).status_code == 201
    assert database.users.count_documents({}) == 1


def test_a_failed_logout_does_not_say_logged_out_and_a_retry_revokes(client, auth, fail_point):
    headers = auth.user_headers()
    fail_point("update")

    failed = client.post("/auth/logout", headers=headers)

    assert_json_5xx(failed)
    assert client.get("/auth/tickets", headers=headers).status_code == 200  # not revoked: honest 5xx
    assert client.post("/auth/logout", headers=headers).json == {"message": "Logged out"}
    assert client.get("/auth/tickets", headers=headers).status_code == 401


class FailTheConfirmation(monitoring.CommandListener):
    """Arms the fail point just before the app writes `confirmed` on a ticket."""

    def __init__(self, fail_point):
        self.fail_point = fail_point
        self.armed = False

    def started(self, event):
        command = event.command
        confirming = (event.command_name == "update" and command.get("update") == "tickets"
                      and "'confirmed'" in str(command.get("updates")))
        if confirming and not self.armed:
            self.armed = True
            self.fail_point("update")

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


def test_money_taken_when_the_confirmation_cannot_be_written_is_not_lost(
    make_app, auth, events, stand_in, database, fail_point
):
    listener = FailTheConfirmation(fail_point)
    client = make_app(MONGODB_CLIENT_OPTIONS={"event_listeners": [listener]}).test_client()
    user = auth.signup()
    headers = bearer(auth.login(user["email"]))
    event = events.create(capacity=5, price=1000)
    ticket = client.post("/tickets", json={"eventId": event["_id"]}, headers=headers).json

    paid = client.post("/payment", json={"ticketId": ticket["_id"], "amount": 1000, "token": "pm_card_visa"},
                       headers=headers)
    assert listener.armed
    assert_json_5xx(paid)
    [intent] = intents_for(stand_in, ticket)
    assert intent.status == "succeeded"  # Stripe took the money; the ticket could not say so
    assert stored(database, ticket)["status"] == "pending"

    polled = client.get(f"/tickets/{ticket['_id']}", headers=headers)

    assert polled.json["status"] == "confirmed"
    assert database.payments.find_one({"_id": intent.id})["status"] == "succeeded"
    assert database.events.find_one({"_id": ObjectId(event["_id"])})["seatsTaken"] == 1
