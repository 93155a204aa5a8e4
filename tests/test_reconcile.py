"""`flask reconcile` finds an event whose seat counter disagrees with its tickets, and repairs it."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from support import VISA, pay, refunds_of, stored


def reserve(client, headers, event, quantity):
    response = client.post("/tickets", json={"eventId": event["_id"], "quantity": quantity}, headers=headers)
    assert response.status_code == 201


def counter(database, event):
    return database.events.find_one({"_id": ObjectId(event["_id"])})["seatsTaken"]


def test_a_corrupted_counter_is_reported_and_repaired(client, runner, auth, events, database):
    event = events.create(name="Jazz night", capacity=10)
    healthy = events.create(name="Folk", capacity=10)
    headers = auth.user_headers()
    reserve(client, headers, event, 3)
    reserve(client, headers, healthy, 2)
    database.events.update_one({"_id": ObjectId(event["_id"])}, {"$inc": {"seatsTaken": 4}})

    result = runner.invoke(args=["reconcile", "--settle-seconds", "0"])

    assert result.exit_code == 0, result.output
    drift = f"event {event['_id']} (Jazz night): counter said 7 seats taken, tickets hold 3: repaired"
    assert drift in result.output
    assert "2 events checked, 1 drifted, 1 repaired" in result.output
    assert counter(database, event) == 3
    assert counter(database, healthy) == 2
    assert client.get(f"/events/{event['_id']}").json["ticketsAvailable"] == 7


def test_a_counter_below_its_tickets_is_raised(runner, client, auth, events, database):
    event = events.create(capacity=10)
    reserve(client, auth.user_headers(), event, 5)
    database.events.update_one({"_id": ObjectId(event["_id"])}, {"$set": {"seatsTaken": 1}})

    result = runner.invoke(args=["reconcile", "--settle-seconds", "0"])

    assert "counter said 1 seats taken, tickets hold 5: repaired" in result.output
    assert counter(database, event) == 5


def test_a_dry_run_repairs_nothing(runner, events, database):
    event = events.create(capacity=10)
    database.events.update_one({"_id": ObjectId(event["_id"])}, {"$set": {"seatsTaken": 6}})

    result = runner.invoke(args=["reconcile", "--dry-run", "--settle-seconds", "0"])

    assert "counter said 6 seats taken, tickets hold 0: not repaired (dry run)" in result.output
    assert counter(database, event) == 6


def test_a_consistent_database_has_nothing_to_repair(runner, client, auth, events):
    reserve(client, auth.user_headers(), events.create(capacity=10), 4)

    result = runner.invoke(args=["reconcile", "--settle-seconds", "0"])

    assert result.exit_code == 0
    assert result.output.strip() == "1 events checked, 0 drifted, 0 repaired"


@pytest.mark.parametrize("seconds", ["-1", "nan", "1e12", "3601"])
def test_a_settle_delay_sleep_cannot_take_is_refused_before_anything_is_done(runner, events, database, seconds):
    """Whole seconds, up to an hour; a negative, NaN or huge delay was a traceback from
    `time.sleep` after Stripe's leftovers had already been settled."""
    event = events.create(capacity=10)
    database.events.update_one({"_id": ObjectId(event["_id"])}, {"$set": {"seatsTaken": 6}})

    result = runner.invoke(args=["reconcile", "--settle-seconds", seconds])

    assert result.exit_code == 2, result.output
    assert "Invalid value for '--settle-seconds'" in result.output
    assert counter(database, event) == 6


def test_reconcile_while_selling_changes_no_correct_counter(app, runner, auth, events, database):
    event = events.create(capacity=200)
    buyers = auth.many_user_headers(40)

    def buy(headers):
        client = app.test_client()
        for _ in range(3):
            client.post("/tickets", json={"eventId": event["_id"], "quantity": 1}, headers=headers)

    sellers = [threading.Thread(target=buy, args=(headers,)) for headers in buyers]
    for seller in sellers:
        seller.start()
    runs = [runner.invoke(args=["reconcile", "--settle-seconds", "1"]) for _ in range(2)]
    for seller in sellers:
        seller.join()

    held = sum(t["quantity"] for t in database.tickets.find({"status": {"$in": ["pending", "confirmed"]}}))
    assert counter(database, event) == held == 120
    assert not [run.output for run in runs if ": repaired" in run.output]


def test_an_accounts_seat_count_left_too_high_by_a_crash_is_repaired(runner, client, auth, events, database):
    """A process that died between counting seats against the account's limit and storing
    the ticket leaves the account unable to buy what it may: reconcile sets it back."""
    event = events.create(capacity=10, maxPerUser=4)
    headers = auth.user_headers()
    reserve(client, headers, event, 1)
    database.holdings.update_one({}, {"$inc": {"seats": 3}})  # as if a reservation of 3 died half-way
    assert client.post("/tickets", json={"eventId": event["_id"]}, headers=headers).status_code == 409

    result = runner.invoke(args=["reconcile", "--settle-seconds", "0"])

    assert result.exit_code == 0, result.output
    assert database.holdings.find_one()["seats"] == 1
    reserve(client, headers, event, 3)


def charge_left_in_flight(database, ticket, intent_id=None):
    """What a request killed mid-charge leaves: the ticket marked as being charged since
    longer than the grace, maybe with its PaymentIntent recorded."""
    database.tickets.update_one({"_id": ObjectId(ticket["_id"])}, {"$set": {
        "chargingSince": datetime.now(UTC) - timedelta(minutes=3), "paymentIntent": intent_id}})


def paid_at_stripe(stand_in, ticket):
    intent = stand_in.payment_intents.create(params={
        "amount": ticket["amount"], "currency": ticket["currency"], "metadata": {"ticketId": ticket["_id"]},
        "payment_method_types": ["card"]})
    return stand_in.payment_intents.confirm(intent.id, params={"payment_method": VISA})


def test_a_charge_a_killed_request_left_is_settled_from_stripe(runner, held, event, database, stand_in):
    intent = paid_at_stripe(stand_in, held)
    charge_left_in_flight(database, held, intent.id)

    result = runner.invoke(args=["reconcile", "--settle-seconds", "0"])

    assert result.exit_code == 0, result.output
    assert f"ticket {held['_id']}: a charge left in flight, paid at Stripe: the ticket is confirmed" in result.output
    assert stored(database, held)["status"] == "confirmed"
    assert "chargingSince" not in stored(database, held)
    assert database.payments.find_one({"_id": intent.id})["status"] == "succeeded"
    assert counter(database, event) == 2


def test_a_charge_that_never_reached_stripe_frees_the_hold_for_another_try(runner, client, buyer, held, database):
    charge_left_in_flight(database, held)

    result = runner.invoke(args=["reconcile", "--settle-seconds", "0"])

    assert "no PaymentIntent made: the hold can be paid again" in result.output
    assert "chargingSince" not in stored(database, held)
    assert pay(client, buyer, held).status_code == 200


def test_a_charge_still_within_the_grace_is_left_alone(runner, held, database, stand_in):
    intent = paid_at_stripe(stand_in, held)
    database.tickets.update_one({"_id": ObjectId(held["_id"])}, {"$set": {
        "chargingSince": datetime.now(UTC), "paymentIntent": intent.id}})

    runner.invoke(args=["reconcile", "--settle-seconds", "0"])

    assert stored(database, held)["status"] == "pending"


@pytest.mark.parametrize("made_at_stripe", [True, False], ids=["made", "not-made"])
def test_a_refund_a_killed_request_left_is_finished_once(runner, client, buyer, held, event, database, stand_in,
                                                         made_at_stripe):
    intent_id = pay(client, buyer, held).json["paymentId"]
    if made_at_stripe:
        stand_in.refunds.create(params={"payment_intent": intent_id})
    database.payments.update_one({"_id": intent_id}, {"$set": {
        "refund": "started", "refundClaimedAt": datetime.now(UTC) - timedelta(minutes=3)}})

    result = runner.invoke(args=["reconcile", "--settle-seconds", "0"])

    assert f"payment {intent_id}: a refund left half-made: refunded, ticket {held['_id']} is refunded" in result.output
    assert len(refunds_of(stand_in, intent_id)) == 1
    assert stored(database, held)["status"] == "refunded"
    assert counter(database, event) == 0


def test_a_refund_claimed_just_now_is_left_to_its_process(runner, client, buyer, held, database, stand_in):
    intent_id = pay(client, buyer, held).json["paymentId"]
    claimed = {"refund": "started", "refundClaimedAt": datetime.now(UTC)}
    database.payments.update_one({"_id": intent_id}, {"$set": claimed})

    result = runner.invoke(args=["reconcile", "--settle-seconds", "0"])

    assert intent_id not in result.output
    assert refunds_of(stand_in, intent_id) == []
    assert stored(database, held)["status"] == "confirmed"
