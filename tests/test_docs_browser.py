"""`/docs` in a real headless Chromium: every route group renders, from loopback alone."""

import re
import shutil
import subprocess

import pytest

ROUTE_GROUPS = ["auth", "door", "events", "health", "payments", "tickets"]
# Chromium's own background calls (updates, accounts), not the page's: the resolver
# rule below sends them nowhere anyway.
BROWSER_SERVICES = re.compile(r"^https?://[\w.-]*(google\.com|googleapis\.com|gstatic\.com)/")


def test_swagger_ui_renders_every_route_group_from_loopback(live_server, tmp_path):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed and could not be (make test installs it with apt-get)")
    net_log = tmp_path / "net.json"
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
         f"--log-net-log={net_log}", "--virtual-time-budget=10000", "--dump-dom", f"{live_server}/docs"],
        capture_output=True, text=True, timeout=120,
    )

    dom = result.stdout
    assert sorted(set(re.findall(r'id="operations-tag-([\w-]+)"', dom))) == ROUTE_GROUPS
    assert "authorize" in dom.lower()  # the bearer scheme: "Authorize", then "Try it out"
    urls = set(re.findall(r'"url":"([^"]+)"', net_log.read_text()))
    page_requests = {url for url in urls if not BROWSER_SERVICES.match(url)}
    assert f"{live_server}/openapi.json" in page_requests
    assert f"{live_server}/docs/assets/swagger-ui-bundle.js" in page_requests
    assert all(url.startswith(live_server) for url in page_requests), page_requests
