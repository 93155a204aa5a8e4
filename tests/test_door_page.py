"""`GET /door`: the door page, its script and style, served by the service itself under a
strict Content-Security-Policy. (Driven in a real browser by `test_door_browser.py`.)"""

import re

import pytest

PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
ASSETS = {"door.js": "text/javascript", "door.css": "text/css"}


@pytest.fixture
def page(client):
    return client.get("/door")


def asset(client, name):
    response = client.get(f"/door/assets/{name}")
    body = response.get_data(as_text=True)
    response.close()
    return response, body


def test_the_page_is_html_under_a_strict_policy_and_checked_again_on_each_load(page):
    assert page.status_code == 200
    assert page.content_type == "text/html; charset=utf-8"
    assert page.headers["Content-Security-Policy"] == PAGE_POLICY
    assert page.headers["Cache-Control"] == "no-cache"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["ETag"]


def test_a_page_already_loaded_is_not_sent_again(client, page):
    again = client.get("/door", headers={"If-None-Match": page.headers["ETag"]})

    assert again.status_code == 304
    assert again.headers["Content-Security-Policy"] == PAGE_POLICY


def test_the_page_loads_its_own_script_and_style_and_nothing_inline(page):
    html = page.get_data(as_text=True)

    assert re.findall(r'<script\b[^>]*>', html) == ['<script src="/door/assets/door.js" defer>']
    assert re.findall(r'<link\b[^>]*>', html) == ['<link rel="stylesheet" href="/door/assets/door.css">']
    assert "<style" not in html
    assert not re.search(r"\s(style|on\w+)=", html)  # inline style or event handler attributes
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html


def test_the_assets_are_served_and_name_no_other_host(client, page):
    html = page.get_data(as_text=True)
    assert {url for url in re.findall(r'(?:src|href)="([^"]*)"', html)} == {"/door/assets/door.js",
                                                                           "/door/assets/door.css"}
    for name, content_type in ASSETS.items():
        response, body = asset(client, name)
        assert response.status_code == 200
        assert response.mimetype == content_type
        assert response.headers["Cache-Control"] == "no-cache"  # checked again (ETag) on each load
        assert len(body) > 500
        assert not re.search(r"https?:|[\"'`(]//|url\(|@import", body)  # no address of another host


def test_the_script_writes_text_never_markup_and_keeps_the_session_in_the_tab(client):
    _, script = asset(client, "door.js")

    assert "innerHTML" not in script and "insertAdjacentHTML" not in script  # a holder's name is text
    assert "localStorage" not in script and "sessionStorage" in script


def test_the_page_is_only_at_door_with_its_policy(client):
    response, _ = asset(client, "../door.html")
    assert response.status_code == 404
    response, _ = asset(client, "door.html")
    assert response.status_code == 404


def test_the_page_is_documented_with_the_door(client):
    door = client.get("/openapi.json").json["paths"]["/door"]["get"]

    assert door["tags"] == ["door"]
    assert list(door["responses"]["200"]["content"]) == ["text/html"]
    assert "Content-Security-Policy" in door["responses"]["200"]["headers"]
    assert door["security"] == []  # public: the page asks for the token itself
