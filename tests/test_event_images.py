"""An event's `image` is a plain http(s) URL (API.md, Events): at most 2,048 characters, with
no credentials, whitespace, quotes, angle brackets or control characters; anything else is a
400 and no event is stored."""

import pytest

from support import in_days, refused
from ticket_api.events.schemas import EventCreateSchema

BAD_IMAGES = {
    "closes the attribute and opens a tag": 'https://example.com/a.jpg"><script>alert(1)</script>',
    "single quote": "https://example.com/a'onerror='alert(1).jpg",
    "backtick": "https://example.com/a`.jpg",
    "angle brackets": "https://example.com/<b>.jpg",
    "NUL": "https://example.com/a\x00.jpg",
    "newline": "https://example.com/a.jpg\nX-Injected: 1",
    "tab": "https://example.com/a\t.jpg",
    "DEL": "https://example.com/a\x7f.jpg",
    "C1 control": "https://example.com/a\x9b.jpg",
    "space": "https://example.com/a poster.jpg",
    "no-break space": "https://example.com/a\u00a0poster.jpg",
    "zero-width space": "https://exa\u200bmple.com/a.jpg",
    "right-to-left override": "https://example.com/\u202egpj.exe",
    "word joiner": "https://example.com/a\u2060.jpg",
    "byte order mark": "https://example.com/\ufeffa.jpg",
    "soft hyphen": "https://example.com/po\u00adster.jpg",
    "user and password": "https://user:secret@example.com/a.jpg",
    "user only": "https://user@example.com/a.jpg",
    "a host that is really the user": "https://trusted.example@evil.example/a.jpg",
    "backslash": "https://evil.example\\@trusted.example/a.jpg",
    "too long": "https://example.com/" + "a" * 2029,
    "javascript": "javascript:alert(1)",
    "data": "data:image/svg+xml,<svg onload=alert(1)>",
    "ftp": "ftp://example.com/a.jpg",
    "relative": "/posters/a.jpg",
    "unclosed IPv6 host": "https://[::1/a.jpg",
}

GOOD_IMAGES = [
    "https://example.com/poster.jpg",
    "http://example.com/posters/2026/jazz%20night.png?size=large&v=2#top",
    "https://cdn.example.com/a/b/c.webp",
    "https://example.com/" + "a" * 2028,  # 2,048 characters
    "https://example.com/@ada/poster.jpg",  # an @ in the path is no credential
]


def create(client, events, image):
    body = {"name": "Jazz night", "date": in_days(30), "capacity": 10, "image": image}
    return client.post("/events", json=body, headers=events.admin)


@pytest.mark.parametrize("case", list(BAD_IMAGES))
def test_a_bad_image_is_refused(case):
    body = {"name": "Jazz night", "date": in_days(30), "capacity": 10, "image": BAD_IMAGES[case]}

    assert list(refused(EventCreateSchema, body)) == ["image"]


def test_a_bad_image_is_400_and_stores_nothing(client, events, database):
    response = create(client, events, BAD_IMAGES["a host that is really the user"])

    assert response.status_code == 400
    assert response.json["message"] == "Invalid data"
    assert list(response.json["errors"]["json"]) == ["image"]
    assert database.events.count_documents({}) == 0


@pytest.mark.parametrize("image", GOOD_IMAGES)
def test_a_plain_http_url_is_kept_as_sent(client, events, database, image):
    response = create(client, events, image)

    assert response.status_code == 201
    assert response.json["image"] == image
    assert database.events.find_one()["image"] == image
