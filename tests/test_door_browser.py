"""The door page in a real headless Chromium, driven as a volunteer would: log in, pick
today's event, type codes and Enter into the field that kept the focus; from loopback alone."""

import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from support import PASSWORD, bearer, db_id, reserve, stored

pytestmark = pytest.mark.system  # (pyproject.toml: the system tests)

PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
PHONE = (390, 844)


def zone_at_noon(now):
    """A time zone where it is about noon at `now`: there, events two hours before and after
    are both today, fourteen hours before is yesterday and fourteen after is tomorrow,
    whatever the hour the test runs at."""
    hours_east = 12 - now.hour  # -11..12
    return f"Etc/GMT{-hours_east:+d}"  # POSIX signs: Etc/GMT-2 is two hours east of UTC


@pytest.fixture
def now():
    return datetime.now(UTC)


@pytest.fixture
def browser(tmp_path, now):
    """Chromium under the distribution's chromedriver (selenium-manager never runs: the
    driver's path is given), set to a time zone at noon and British English (a 24-hour clock)."""
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        pytest.fail("chromium or chromium-driver is not installed (make test installs them with apt-get)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-quic", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                     f"--window-size={PHONE[0]},{PHONE[1]}", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": zone_at_noon(now)})
    driver.execute_cdp_cmd("Emulation.setLocaleOverride", {"locale": "en-GB"})
    yield driver
    driver.quit()


@pytest.fixture
def door_staff(auth, database):
    """A door account: its email (the password is the tests' own)."""
    user = auth.signup()
    database.users.update_one({"_id": db_id(user)}, {"$set": {"role": "door"}})
    return user["email"]


def move(database, event, when):
    database.events.update_one({"_id": db_id(event)}, {"$set": {"date": when}})


def text(driver, element_id):
    return driver.find_element(By.ID, element_id).text


def log_in(driver, email):
    driver.find_element(By.ID, "email").clear()
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(PASSWORD + Keys.ENTER)


# A scanner typing the code while the focus is away from the field, in one task of the
# page, so the field's refocus (a timer) cannot come first.
TYPED_BEFORE_THE_FOCUS_IS_BACK = """
document.getElementById("code").blur();
for (const key of arguments[0]) {
  document.body.dispatchEvent(new KeyboardEvent("keydown", {key, bubbles: true, cancelable: true}));
}
"""


def scan(driver, code):
    """Type the code and Enter where the focus is (the scanner does not aim), and read the
    result once there is one."""
    driver.switch_to.active_element.send_keys(code + Keys.ENTER)
    WebDriverWait(driver, 10).until(
        lambda d: d.find_element(By.ID, "result").get_attribute("class") in ("admitted", "refused", "unsent"))
    return {part: text(driver, part) for part in ("headline", "holder", "seats", "detail")} | {
        "kind": driver.find_element(By.ID, "result").get_attribute("class")}


def page_requests(driver):
    """(every URL the page asked for, the headers of each response) from the performance log."""
    urls, headers = set(), {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.add(message["params"]["request"]["url"])
        elif message["method"] == "Network.responseReceived":
            response = message["params"]["response"]
            headers[response["url"]] = {name.lower(): value for name, value in response["headers"].items()}
    return urls, headers


class LosesOneReply:
    """In front of the app, as nginx is: the first scan of `code` is made by the app, but
    its answer never reaches the page (a 504, as nginx answers after its timeout)."""

    def __init__(self, app, code):
        self.app, self.code = app, code

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"] == "/checkin" and self.code is not None:
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            if self.code in body.decode():
                self.code = None
                answer = self.app(environ, lambda *_: None)
                b"".join(answer)
                answer.close()
                start_response("504 Gateway Time-out", [("Content-Type", "application/json")])
                return [b'{"message": "Gateway timeout", "code": "service_unavailable"}']
        return self.app(environ, start_response)


def test_a_volunteer_logs_in_picks_tonights_event_and_scans(browser, live_server, client, auth, events, database,
                                                            door_staff, now):
    show, matinee, last_night, tomorrow, called_off = (
        events.create(name=name, price=0, capacity=20)
        for name in ("Show night", "Matinee", "Last night", "Tomorrow night", "Called off"))
    fan = auth.signup(username="ada")
    fans = bearer(auth.login(fan["email"]))
    ticket = reserve(client, fans, show, quantity=2).json
    given_back = reserve(client, fans, show, quantity=1).json
    matinee_ticket = reserve(client, fans, matinee).json
    assert client.post(f"/events/{called_off['_id']}/cancel", headers=events.admin).status_code == 200
    for event, hours in ((show, 2), (matinee, -2), (last_night, -14), (tomorrow, 14), (called_off, 3)):
        move(database, event, now + timedelta(hours=hours))  # the matinee began: the door still scans for it
    wait = WebDriverWait(browser, 10)

    browser.get_log("performance")  # what the browser's own start page asked for, before the door page
    browser.get(f"{live_server}/door")
    log_in(browser, door_staff)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".event-choice strong"))
    choices = browser.find_elements(By.CSS_SELECTOR, ".event-choice strong")
    assert [choice.text for choice in choices] == ["Matinee", "Show night"]
    choices[1].click()
    wait.until(lambda d: text(d, "expected") == "3")
    assert (text(browser, "event-name"), text(browser, "admitted")) == ("Show night", "0")

    admitted = scan(browser, ticket["code"])
    assert admitted == {"kind": "admitted", "headline": "ADMITTED", "holder": "ada", "seats": "2 seats", "detail": ""}
    wait.until(lambda d: text(d, "admitted") == "2")
    checked_in_at = stored(database, ticket)["checkedInAt"].replace(tzinfo=UTC)
    local_time = checked_in_at.astimezone(ZoneInfo(zone_at_noon(now))).strftime("%H:%M")
    assert scan(browser, ticket["code"])["headline"] == f"Already in at {local_time}"
    browser.find_element(By.ID, "result").click()  # the focus leaves the field, and comes back
    assert scan(browser, matinee_ticket["code"])["headline"] == "Wrong event"
    database.tickets.update_one({"_id": db_id(given_back)}, {"$set": {"status": "refunded"}})
    browser.execute_script(TYPED_BEFORE_THE_FOCUS_IS_BACK, given_back["code"])
    assert scan(browser, "")["headline"] == "Refunded"  # the Enter: the code went into the field all the same
    unknown = scan(browser, "NO-SUCH-CODE")
    assert (unknown["kind"], unknown["headline"], unknown["detail"]) == ("refused", "Unknown code", "NO-SUCH-CODE")
    assert text(browser, "admitted") == "2"

    token = browser.execute_script("return sessionStorage.getItem('token')")
    assert browser.execute_script("return localStorage.length") == 0
    browser.find_element(By.CSS_SELECTOR, "#scan .log-out").click()
    wait.until(lambda d: d.find_element(By.ID, "login").is_displayed())
    assert browser.execute_script("return sessionStorage.length") == 0
    wait.until(lambda _: client.get("/auth/me", headers=bearer(token)).status_code == 401)  # revoked

    urls, headers = page_requests(browser)
    assert all(url.startswith(f"{live_server}/") for url in urls), urls
    assert {f"{live_server}/door", f"{live_server}/door/assets/door.js", f"{live_server}/door/assets/door.css",
            f"{live_server}/auth/login", f"{live_server}/checkin",
            f"{live_server}/events/{show['_id']}/checkins"} <= urls
    assert headers[f"{live_server}/door"]["content-security-policy"] == PAGE_POLICY
    refused_by_policy = [entry for entry in browser.get_log("browser") if "Content Security Policy" in entry["message"]]
    assert refused_by_policy == []


def test_the_session_outlives_its_access_token_and_lost_answers(browser, app, live_server, client, auth, events,
                                                                 database, door_staff, now):
    show = events.create(name="Show night", price=0, capacity=20)
    fan = auth.signup(username="ada")
    fans = bearer(auth.login(fan["email"]))
    ticket, other = reserve(client, fans, show).json, reserve(client, fans, show, quantity=2).json
    move(database, show, now + timedelta(hours=1))
    app.wsgi_app = LosesOneReply(app.wsgi_app, other["code"])
    wait = WebDriverWait(browser, 10)
    browser.get(f"{live_server}/door")

    log_in(browser, fan["email"])
    wait.until(lambda d: text(d, "login-message") == "This account is not door staff.")
    log_in(browser, door_staff)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".event-choice"))
    browser.find_element(By.CSS_SELECTOR, ".event-choice").click()
    wait.until(lambda d: text(d, "expected") == "3")
    browser.execute_script("sessionStorage.setItem('token', 'expired')")  # the refresh token gets a new one
    offline = {"latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {**offline, "offline": True})

    lost = scan(browser, ticket["code"])
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {**offline, "offline": False})
    retried = scan(browser, "")  # Enter on the empty field: the same scan again

    assert (lost["kind"], lost["headline"]) == ("unsent", "No connection")
    assert (retried["kind"], retried["headline"], retried["seats"]) == ("admitted", "ADMITTED", "1 seat")
    unanswered = scan(browser, other["code"])
    again = scan(browser, other["code"])  # scanned again: the same scan, so not "already in"
    assert (unanswered["kind"], unanswered["headline"]) == ("unsent", "Server error 504")
    assert (again["kind"], again["headline"], again["seats"]) == ("admitted", "ADMITTED", "2 seats")
    wait.until(lambda d: text(d, "admitted") == "3")
    assert [scan["result"] for scan in database.checkins.find()] == ["admitted", "admitted"]

    database.users.update_one({"email": door_staff}, {"$set": {"role": "user"}})
    browser.switch_to.active_element.send_keys("ANY-CODE" + Keys.ENTER)  # no longer door staff
    wait.until(lambda d: d.find_element(By.ID, "login").is_displayed())
    assert text(browser, "login-message") == "This account is not door staff."


def test_names_are_shown_as_text_and_whole_on_a_phone(browser, live_server, client, events, database, door_staff, now):
    """An event's and a walk-in's names are data: markup in them is shown, never run; one
    long word (a name, an email) wraps inside the phone's width rather than off its edges."""
    show = events.create(name="<img src=x onerror=\"document.title='run'\">Show", price=0, capacity=20)
    move(database, show, now + timedelta(hours=1))
    marked_up, long_name = "<script>document.title='run'</script><b>Ada</b>", "Wolfeschlegelsteinhausenbergerdorff"
    codes = [client.post(f"/events/{show['_id']}/tickets", headers=events.admin,
                         json={"quantity": 1, "paidWith": "comp", "name": name}).json["code"]
             for name in (marked_up, long_name)]
    wait = WebDriverWait(browser, 10)
    browser.get(f"{live_server}/door")
    log_in(browser, door_staff)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".event-choice"))
    browser.find_element(By.CSS_SELECTOR, ".event-choice").click()
    wait.until(lambda d: text(d, "expected") == "2")

    assert scan(browser, codes[0])["holder"] == marked_up
    assert text(browser, "event-name") == show["name"]
    assert (browser.title, browser.find_elements(By.CSS_SELECTOR, "#scan img, #scan b")) == ("Door", [])
    assert scan(browser, codes[1])["holder"] == long_name
    page_width, holder_width = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.getElementById('result').clientWidth]")
    assert page_width == browser.execute_script("return document.documentElement.clientWidth")
    assert browser.find_element(By.ID, "holder").size["width"] <= holder_width
