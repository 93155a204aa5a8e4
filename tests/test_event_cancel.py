"""`POST /events/<id>/cancel`: final; every hold released, every card-paid ticket refunded in
full exactly once, every free ticket cancelled; a crash or a Stripe outage half-way is
finished by the next call, never twice."""

from collections import Counter
from functools import partial

import pytest
from bson import ObjectId

from support import Interleave, at_once, free_port, pay, refunds_of, reserve, seats_taken, stored
from ticket_api.db import utcnow
from ticket_api.sales import cancellation


def cancel_event(client, headers, event):
    return client.post(f"/events/{event['_id']}/cancel", headers=headers)


class Show:
    """An event with 10 free tickets (made while it was free), 100 card-paid ones and 20
    pending holds, each of one seat, by 13 buyers."""

    def __init__(self, client, auth, events, database):
        self.admin = events.admin
        self.event = events.create(capacity=200, price=0)
        free_buyer, *payers, holder_a, holder_b = auth.many_user_headers(13)
        self.free = [reserve(client, free_buyer, self.event).json for _ in range(10)]
        edited = client.patch(f"/events/{self.event['_id']}", json={"price": 2500}, headers=self.admin)
        assert edited.status_code == 200, edited.json
        bought = at_once(*[partial(self.buy_ten, client.application.test_client(), headers) for headers in payers])
        self.paid = [ticket for tickets in bought for ticket, status in tickets]
        assert [status for tickets in bought for ticket, status in tickets] == [200] * 100
        self.held = [reserve(client, headers, self.event).json for headers in (holder_a, holder_b) for _ in range(10)]
        self.database = database

    def buy_ten(self, client, headers):
        """(ticket, payment status) of ten tickets, one after the other (the buyers at once:
        each is as with the others waiting, and the show is ready sooner)."""
        bought = []
        for _ in range(10):
            ticket = reserve(client, headers, self.event).json
            bought.append((ticket, pay(client, headers, ticket).status_code))
        return bought

    def statuses(self):
        found = self.database.tickets.find({"event": ObjectId(self.event["_id"])})
        return Counter(ticket["status"] for ticket in found)

    def intents(self):
        return [self.database.tickets.find_one({"_id": ObjectId(ticket["_id"])})["paymentIntent"]
                for ticket in self.paid]

    def refunds(self, stand_in):
        return sum(len(refunds_of(stand_in, intent_id)) for intent_id in self.intents())


@pytest.fixture
def show(client, auth, events, database):
    return Show(client, auth, events, database)


def test_cancelling_refunds_every_paid_ticket_once_and_releases_the_rest(client, show, stand_in):
    response = cancel_event(client, show.admin, show.event)

    assert response.status_code == 200, response.json
    assert response.json["refundsPending"] == 0
    assert response.json["event"]["status"] == "cancelled"
    assert response.json["event"]["ticketsAvailable"] == 200
    assert show.refunds(stand_in) == 100
    assert show.statuses() == {"refunded": 100, "cancelled": 30}
    assert seats_taken(show.database, show.event) == 0
    again = cancel_event(client, show.admin, show.event)
    assert (again.status_code, again.json["refundsPending"]) == (200, 0)
    assert show.refunds(stand_in) == 100


def test_a_cancelled_event_takes_no_more_holds_and_stays_listed(client, events, buyer, database):
    event = events.create(capacity=5, price=1000)
    cancelled = client.post(f"/events/{event['_id']}/cancel", json={"reason": "The band is ill"}, headers=events.admin)
    assert cancelled.json["refundsPending"] == 0
    assert database.events.find_one({"_id": ObjectId(event["_id"])})["cancelReason"] == "The band is ill"

    refused = reserve(client, buyer, event)

    assert refused.status_code == 409
    assert refused.json["code"] == "event_cancelled"
    listed = {listed["_id"]: listed for listed in client.get("/events").json}
    assert listed[event["_id"]]["status"] == "cancelled"
    stored = database.events.find_one({"_id": ObjectId(event["_id"])})
    again = client.post(f"/events/{event['_id']}/cancel", json={"reason": "Another"}, headers=events.admin)
    assert again.status_code == 200  # nothing left to do, and the first cancel's record kept
    assert database.events.find_one({"_id": ObjectId(event["_id"])}) == stored


def test_a_process_killed_half_way_is_finished_by_the_next_call(make_app, client, show, stand_in, fail_point):
    """After the 50th refund is recorded, the process dies (its next write fails): the
    50th ticket's refund is made and recorded, its ticket not yet told."""
    spy = Interleave()
    killed = make_app(MONGODB_CLIENT_OPTIONS={"event_listeners": [spy]}).test_client()
    recorded = []

    def count_refunds(name, command):
        if name == "update" and command.get("update") == "payments" and \
                command["updates"][0]["u"].get("$set", {}).get("refund") == "done":
            recorded.append(1)
            return len(recorded) == 50
        return False

    spy.arm(count_refunds, lambda: fail_point("update", times=1))
    first = cancel_event(killed, show.admin, show.event)
    spy.outcome()
    assert first.status_code == 500

    second = cancel_event(client, show.admin, show.event)

    assert second.status_code == 200, second.json
    assert second.json["refundsPending"] == 0
    assert show.refunds(stand_in) == 100
    assert show.statuses() == {"refunded": 100, "cancelled": 30}
    assert seats_taken(show.database, show.event) == 0


def test_stripe_down_for_the_first_call_is_202_then_200_once_it_is_back(make_app, client, show, stand_in):
    """Stripe unreachable, as a worker sees it: its address answers nothing."""
    stripe_down = make_app(STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}", STRIPE_TIMEOUT_SECONDS=2)

    down = cancel_event(stripe_down.test_client(), show.admin, show.event)

    assert down.status_code == 202, down.json
    assert down.json["refundsPending"] == 100
    assert down.json["event"]["status"] == "cancelled"
    assert show.statuses() == {"confirmed": 100, "cancelled": 30}
    assert show.refunds(stand_in) == 0

    back = cancel_event(client, show.admin, show.event)

    assert back.status_code == 200, back.json
    assert back.json["refundsPending"] == 0
    assert show.refunds(stand_in) == 100
    assert show.statuses() == {"refunded": 100, "cancelled": 30}


def test_cancelling_raced_against_itself_refunds_once(app, show, stand_in):
    replies = at_once(*[lambda: cancel_event(app.test_client(), show.admin, show.event)] * 10)

    assert {reply.status_code for reply in replies} <= {200, 202}
    assert show.refunds(stand_in) == 100
    assert show.statuses() == {"refunded": 100, "cancelled": 30}


def test_staff_only_and_a_known_event(client, auth, events):
    event = events.create(capacity=5)

    assert cancel_event(client, auth.user_headers(), event).status_code == 403
    assert client.post(f"/events/{ObjectId()}/cancel", headers=events.admin).status_code == 404
    assert client.get(f"/events/{event['_id']}").json["status"] == "scheduled"


def test_flask_reconcile_finishes_what_stripe_being_down_left(make_app, runner, show, stand_in):
    stripe_down = make_app(STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}", STRIPE_TIMEOUT_SECONDS=2)
    assert cancel_event(stripe_down.test_client(), show.admin, show.event).status_code == 202

    result = runner.invoke(args=["reconcile", "--settle-seconds", "0"])

    assert f"event {show.event['_id']}: cancelled, its tickets settled\n" in result.output
    assert show.refunds(stand_in) == 100
    assert show.statuses() == {"refunded": 100, "cancelled": 30}


@pytest.fixture
def three_paid(client, auth, events):
    """An event with three card-paid tickets of one seat."""
    event = events.create(capacity=10, price=1500)
    buyer = auth.user_headers()
    for _ in range(3):
        assert pay(client, buyer, reserve(client, buyer, event).json).status_code == 200
    return event



def test_the_first_refund_stripe_fails_ends_the_calls_refunds(make_app, three_paid, events, stripe_hanging_up):
    """Bug: going on to the next refund after `ProviderUnavailable` (each waits out its
    own timeout while Stripe is down)."""
    port, taken = stripe_hanging_up
    stripe_down = make_app(STRIPE_API_BASE=f"http://127.0.0.1:{port}", STRIPE_MAX_RETRIES=0)

    down = cancel_event(stripe_down.test_client(), events.admin, three_paid)

    assert (down.status_code, down.json["refundsPending"]) == (202, 3)
    assert len(taken) == 1


def test_refunds_left_when_the_requests_time_is_up_are_made_by_the_next_call(
    client, three_paid, events, database, stand_in, monkeypatch
):
    monkeypatch.setattr(cancellation, "REFUNDS_SECONDS_PER_REQUEST", -1)  # up before the first refund
    first = cancel_event(client, events.admin, three_paid)
    assert (first.status_code, first.json["refundsPending"]) == (202, 3)
    monkeypatch.undo()

    second = cancel_event(client, events.admin, three_paid)

    assert (second.status_code, second.json["refundsPending"]) == (200, 0)
    paid = database.tickets.find({"event": ObjectId(three_paid["_id"])})
    assert sum(len(refunds_of(stand_in, ticket["paymentIntent"])) for ticket in paid) == 3


def test_a_hold_whose_charge_is_running_keeps_its_seats_until_the_charge_ends(client, auth, events, database):
    """Bug: giving a hold's seats back when its release did not happen (a charge runs)."""
    event = events.create(capacity=10, price=1500)
    hold = reserve(client, auth.user_headers(), event, quantity=2).json
    database.tickets.update_one({"_id": ObjectId(hold["_id"])}, {"$set": {"chargingSince": utcnow()}})

    response = cancel_event(client, events.admin, event)

    assert (response.status_code, response.json["refundsPending"]) == (202, 1)
    assert database.tickets.find_one({"_id": ObjectId(hold["_id"])})["status"] == "pending"
    assert seats_taken(database, event) == 2


def test_stripe_down_for_a_refund_is_not_asked_anything_else_in_that_call(make_app, client, auth, events, database,
                                                                           stripe_hanging_up):
    """One Stripe call can last `STRIPE_TIMEOUT_SECONDS` x (1 + `STRIPE_MAX_RETRIES`), 30 s
    by default: a second one after Stripe failed took the reply past gunicorn's timeout.
    The released hold's PaymentIntent stays recorded, for a later request or `reconcile`.

    Bug: cancelling the released holds' PaymentIntents after the refunds met Stripe down.
    """
    event = events.create(capacity=5, price=1000)
    payer, holder = auth.many_user_headers(2)
    assert pay(client, payer, reserve(client, payer, event).json).status_code == 200
    held = reserve(client, holder, event).json
    assert pay(client, holder, held, token=None).status_code == 202  # its PaymentIntent waits for the browser
    port, taken = stripe_hanging_up
    stripe_down = make_app(STRIPE_API_BASE=f"http://127.0.0.1:{port}", STRIPE_MAX_RETRIES=0)

    down = cancel_event(stripe_down.test_client(), events.admin, event)

    assert (down.status_code, down.json["refundsPending"]) == (202, 1)
    assert len(taken) == 1
    ticket = stored(database, held)
    assert (ticket["status"], ticket["unsettledIntent"]) == ("cancelled", ticket["paymentIntent"])
