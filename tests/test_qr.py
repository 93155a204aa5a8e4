"""`GET /tickets/<id>/qr.svg`: the door code as a QR code that a scanner reads back, for the
ticket's owner and staff, only once the ticket is confirmed."""

import re

import numpy
import zxingcpp

from support import reserve


def modules(svg):
    """The dark modules of segno's SVG path (`M4 4.5h7m2 0h2m-21 1h1...`: runs of modules
    drawn left to right, each move relative to the end of the last run)."""
    path = re.search(rb'class="qrline"[^>]* d="([^"]+)"', svg).group(1).decode()
    size = int(re.search(rb'<path fill="#fff" d="M0 0h(\d+)', svg).group(1))
    dark = numpy.zeros((size, size), dtype=bool)
    x = y = 0.0
    for command, numbers in re.findall(r"([Mmh])([-\d. ]+)", path):
        values = [float(n) for n in numbers.split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        else:
            dark[int(y), int(x):int(x + values[0])] = True
            x += values[0]
    return dark


def read_qr(svg):
    """What a scanner reads in the SVG: rendered at 8 pixels a module, then decoded."""
    image = numpy.where(modules(svg), 0, 255).astype(numpy.uint8).repeat(8, axis=0).repeat(8, axis=1)
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


def qr(client, headers, ticket):
    return client.get(f"/tickets/{ticket['_id']}/qr.svg", headers=headers)


def test_the_qr_reads_back_as_the_door_code(client, buyer, events):
    ticket = reserve(client, buyer, events.create(capacity=5, price=0)).json

    response = qr(client, buyer, ticket)

    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert read_qr(response.data) == [ticket["code"]]


def test_staff_see_it_too_and_nobody_else(client, auth, buyer, events):
    ticket = reserve(client, buyer, events.create(capacity=5, price=0)).json

    assert read_qr(qr(client, auth.admin_headers(), ticket).data) == [ticket["code"]]
    assert read_qr(qr(client, auth.door_headers(), ticket).data) == [ticket["code"]]
    assert qr(client, auth.user_headers(), ticket).status_code == 404
    assert client.get(f"/tickets/{ticket['_id']}/qr.svg").status_code == 401


def test_door_staff_see_nothing_else_of_anothers_ticket(client, auth, buyer, events):
    ticket = reserve(client, buyer, events.create(capacity=5, price=0)).json
    door = auth.door_headers()

    assert client.get(f"/tickets/{ticket['_id']}", headers=door).status_code == 404
    assert client.post(f"/tickets/{ticket['_id']}/cancel", headers=door).status_code == 404
    assert client.get(f"/tickets/{ticket['_id']}", headers=buyer).json["status"] == "confirmed"


def test_a_pending_hold_has_no_qr(client, buyer, held):
    response = qr(client, buyer, held)

    assert response.status_code == 409
    assert response.json == {"message": "This ticket does not admit anyone: it is pending", "code": "not_admissible",
                             "status": "pending"}


def test_a_ticket_given_back_has_no_qr(client, buyer, events):
    ticket = reserve(client, buyer, events.create(capacity=5, price=0)).json
    client.post(f"/tickets/{ticket['_id']}/cancel", headers=buyer)

    assert qr(client, buyer, ticket).status_code == 409
