"""`/docs` in a real headless Chromium: every route group renders, in the order a frontend
meets them, from loopback alone; and it reads well: the API's description on top, and no
Markdown shown raw anywhere (every operation, response and schema opened)."""

import re
import shutil
import subprocess

import pytest

from ticket_api import docs

pytestmark = pytest.mark.system  # (pyproject.toml: the system tests)

ROUTE_GROUPS = ["auth", "events", "tickets", "payments", "door", "operations"]
# Chromium's own background calls (updates, accounts), not the page's: the resolver
# rule below sends them nowhere anyway.
BROWSER_SERVICES = re.compile(r"^https?://[\w.-]*(google\.com|googleapis\.com|gstatic\.com)/")


@pytest.fixture
def settings(settings):
    """Swagger UI with every operation, its responses and the schemas opened: all its text."""
    shown = {"docExpansion": "full", "defaultModelsExpandDepth": 3}
    return {**settings, "OPENAPI_SWAGGER_UI_CONFIG": {**docs.SETTINGS["OPENAPI_SWAGGER_UI_CONFIG"], **shown}}


@pytest.fixture
def render(live_server, tmp_path):
    """`render(*flags)`: the DOM of `/docs` once Chromium has run its scripts."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed and could not be (make test installs it with apt-get)")

    def dump(*flags):
        result = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
             *flags, "--virtual-time-budget=15000", "--dump-dom", f"{live_server}/docs"],
            capture_output=True, text=True, timeout=120,
        )
        return result.stdout

    return dump


def test_swagger_ui_renders_every_route_group_in_order_from_loopback(render, live_server, tmp_path):
    net_log = tmp_path / "net.json"

    dom = render(f"--log-net-log={net_log}")

    assert re.findall(r'id="operations-tag-([\w-]+)"', dom) == ROUTE_GROUPS
    assert "authorize" in dom.lower()  # the bearer scheme: "Authorize", then "Try it out"
    urls = set(re.findall(r'"url":"([^"]+)"', net_log.read_text()))
    page_requests = {url for url in urls if not BROWSER_SERVICES.match(url)}
    assert f"{live_server}/openapi.json" in page_requests
    assert f"{live_server}/docs/assets/swagger-ui-bundle.js" in page_requests
    assert all(url.startswith(live_server) for url in page_requests), page_requests


def test_swagger_ui_shows_the_description_on_top_and_no_raw_markdown(render):
    page = re.sub(r"<script.*?</script>", "", render(), flags=re.DOTALL)
    text = re.sub(r"<[^>]+>", "", page)

    assert page.index("minor unit") < page.index('id="operations-tag-auth"')
    assert "<table>" in page and "<code>invalid_data</code>" in page  # the description, as Markdown renders it
    assert 'id="operations-payments-payTicket"' in page  # every operation opened, named by its operationId
    assert "Missing data for required field." in text  # its responses' examples shown
    assert "`" not in text and "**" not in text
