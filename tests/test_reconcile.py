"""`flask reconcile` finds an event whose seat counter disagrees with its tickets, and repairs it."""

import threading

from bson import ObjectId


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
