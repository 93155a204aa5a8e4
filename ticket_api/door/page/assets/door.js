"use strict";
// The door page (GET /door): log in, pick one of today's events, scan tickets.
// A hardware barcode scanner types the code and Enter into the focused field, so the
// code field keeps the focus. Plain script, no build step; it talks to this service only
// (API.md, "The door"). The session lives in sessionStorage: it ends with the tab.

const session = window.sessionStorage;
const STATUS_WORDS = {
  refunded: "Refunded", refunding: "Being refunded", cancelled: "Cancelled", pending: "Not paid", expired: "Expired",
};
const RESULT_SHOWN_MS = 6000; // then back to "Ready": an old green must not pass for the next scan
const TRY_AGAIN = "Not checked: press Enter to send it again";
const COUNT_EVERY_MS = 30000; // other doors admit too
const EVENTS_PAGE = 50;

let pendingScan = null; // {code, eventId, scanId} sent, no answer yet: scanned again, it keeps its scanId
let scans = Promise.resolve(); // scans run one after another, in the order they were made
let resultTimer = null;

function $(id) {
  return document.getElementById(id);
}

function show(view) {
  for (const id of ["login", "events", "scan"]) $(id).hidden = id !== view;
}

// Calling the service

class SignedOut extends Error {}

function send(method, path, body, token = session.getItem("token")) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
}

// A call with the session's token: a 401 gets one new token from the refresh token (access
// tokens are short-lived, an hour by default; a door shift is longer), then back to login;
// a 403 too.
async function call(method, path, body) {
  let response = await send(method, path, body);
  if (response.status === 401 && (await renewToken())) response = await send(method, path, body);
  if (response.status === 401) throw signOut("Please log in again.");
  if (response.status === 403) throw signOut("This account is not door staff.");
  return response;
}

async function renewToken() {
  const refreshToken = session.getItem("refreshToken");
  if (!refreshToken) return false;
  const response = await send("POST", "/auth/refresh", undefined, refreshToken);
  if (!response.ok) return false;
  session.setItem("token", (await response.json()).token);
  return true;
}

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return {};
  }
}

// Logging in and out

async function logIn(submitted) {
  submitted.preventDefault();
  const email = $("email").value.trim();
  say("login-message", "Logging in…");
  let response;
  try {
    response = await send("POST", "/auth/login", {email, password: $("password").value}, null);
  } catch {
    return say("login-message", "No connection to the server.");
  }
  const body = await readJson(response);
  if (response.status === 429) return say("login-message", "Too many attempts: wait a minute.");
  if (!response.ok) return say("login-message", "Wrong email or password.");
  $("password").value = "";
  if (body.role !== "door" && body.role !== "admin") {
    revoke(body.token, body.refreshToken);
    return say("login-message", "This account is not door staff.");
  }
  session.setItem("token", body.token);
  session.setItem("refreshToken", body.refreshToken);
  showEvents();
}

function signOut(message) {
  revoke(session.getItem("token"), session.getItem("refreshToken"));
  session.clear();
  show("login");
  say("login-message", message);
  $("email").focus();
  return new SignedOut(message);
}

function revoke(token, refreshToken) {
  if (token) send("POST", "/auth/logout", refreshToken ? {refreshToken} : {}, token).catch(() => {});
}

// Today's events

async function showEvents() {
  show("events");
  $("event-list").replaceChildren();
  say("events-message", "Loading today's events…");
  let events;
  try {
    events = await eventsOfToday();
  } catch (error) {
    if (!(error instanceof SignedOut)) say("events-message", "Could not load the events: Refresh to try again.");
    return;
  }
  say("events-message", events.length ? "Pick the event at this door:" : "No events today.");
  for (const event of events) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "event-choice";
    const name = document.createElement("strong");
    name.textContent = event.name;
    const time = document.createElement("span");
    time.textContent = `${clock(event.date)}${event.location ? ` · ${event.location}` : ""}`;
    button.append(name, time);
    button.addEventListener("click", () => pickEvent(event));
    const item = document.createElement("li");
    item.append(button);
    $("event-list").append(item);
  }
}

// The events whose date falls on today, here (the browser's time zone), not cancelled.
// `upcoming=true` drops those that began already, which the door still scans for: those
// are the last of the events before now, at the end of the list by date (read backwards).
async function eventsOfToday() {
  const dayStart = new Date();
  dayStart.setHours(0, 0, 0, 0);
  const dayEnd = new Date(dayStart);
  dayEnd.setDate(dayEnd.getDate() + 1);
  const found = new Map();
  const keep = (events) => {
    for (const event of events) {
      const date = new Date(event.date);
      if (date >= dayStart && date < dayEnd && event.status !== "cancelled") found.set(event._id, event);
    }
  };
  const upcoming = await eventsPage({upcoming: true, limit: 100});
  keep(upcoming.events);
  const begun = (await eventsPage({limit: 1})).total - upcoming.total;
  for (let page = Math.ceil(begun / EVENTS_PAGE); page >= 1; page -= 1) {
    const {events} = await eventsPage({page, limit: EVENTS_PAGE});
    keep(events);
    if (events.length === 0 || new Date(events[0].date) < dayStart) break;
  }
  return [...found.values()].sort((a, b) => a.date.localeCompare(b.date));
}

async function eventsPage(query) {
  const response = await call("GET", `/events?${new URLSearchParams(query)}`);
  if (!response.ok) throw new Error(`GET /events answered ${response.status}`);
  return {events: await response.json(), total: Number(response.headers.get("X-Total-Count"))};
}

function pickEvent(event) {
  session.setItem("event", JSON.stringify({_id: event._id, name: event.name, date: event.date}));
  showScan();
}

function currentEvent() {
  return JSON.parse(session.getItem("event") || "null");
}

// Scanning

function showScan() {
  const event = currentEvent();
  show("scan");
  $("event-name").textContent = event.name;
  $("event-time").textContent = clock(event.date);
  $("admitted").textContent = $("expected").textContent = "-";
  showReady();
  refreshCount();
  focusCode();
}

function focusCode() {
  if (!$("scan").hidden) $("code").focus();
}

// A key typed while the focus is elsewhere (a tap on the page just before a scan, before
// the field took the focus back) goes into the code field, so no character is lost.
function keyOutsideTheField(pressed) {
  const printable = pressed.key.length === 1 && !pressed.ctrlKey && !pressed.metaKey && !pressed.altKey;
  if ($("scan").hidden || pressed.target === $("code") || !printable) return;
  pressed.preventDefault();
  $("code").value += pressed.key;
  focusCode();
}

// Enter in the code field (the scanner's, or a person's): check the code. Enter on an
// empty field retries a scan left without an answer.
function scanSubmitted(submitted) {
  submitted.preventDefault();
  const code = $("code").value.trim();
  $("code").value = "";
  focusCode();
  let scan;
  if (pendingScan && (code === "" || code === pendingScan.code)) scan = pendingScan;
  else if (code !== "") scan = {code, eventId: currentEvent()._id, scanId: newScanId()};
  else return;
  scans = scans.then(() => checkIn(scan)).catch((error) => showResult("unsent", "Page error", {detail: `${error}`}));
}

// A scan without an answer (no connection, a reply cut off, a 5xx: nginx's timeout may come
// after the service admitted the ticket) stays pending, to be sent again as the same scan.
async function checkIn(scan) {
  pendingScan = scan;
  showResult("checking", "Checking…", {detail: scan.code});
  let response, body;
  try {
    response = await call("POST", "/checkin", scan);
    body = response.status >= 500 ? null : await response.json();
  } catch (error) {
    if (!(error instanceof SignedOut)) showResult("unsent", "No connection", {detail: TRY_AGAIN});
    return;
  }
  if (body === null) {
    showResult("unsent", `Server error ${response.status}`, {detail: TRY_AGAIN});
    return;
  }
  pendingScan = null;
  if (response.ok) {
    const {holder, quantity} = body.ticket;
    showResult("admitted", "ADMITTED", {holder: holderName(holder), seats: quantity === 1 ? "1 seat" : `${quantity} seats`});
  } else {
    showResult("refused", refusal(response.status, body), {detail: scan.code});
  }
  refreshCount();
}

function refusal(status, body) {
  switch (body.code) {
    case "already_checked_in":
      return `Already in at ${clock(body.checkedInAt)}`;
    case "not_admissible":
      return STATUS_WORDS[body.status] || `Not valid: ${body.status}`;
    case "wrong_event":
      return "Wrong event";
    case "unknown_code":
      return "Unknown code";
  }
  if (status === 429) return "Too many scans, wait";
  if (status === 400) return "Not a ticket code";
  return `Error ${status}`;
}

function holderName(holder) {
  if (!holder) return "Ticket holder";
  return holder.name || holder.username || holder.email || "Ticket holder";
}

// crypto.randomUUID exists only on HTTPS or localhost; a phone may reach the service by
// its address on the venue's network. getRandomValues works everywhere.
function newScanId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function showResult(kind, headline, {holder = "", seats = "", detail = ""} = {}) {
  $("result").className = kind;
  $("headline").textContent = headline;
  $("holder").textContent = holder;
  $("seats").textContent = seats;
  $("detail").textContent = detail;
  clearTimeout(resultTimer);
  // An answer fades; "checking" and "unsent" (waiting for Enter to send it again) stay.
  if (kind === "admitted" || kind === "refused") resultTimer = setTimeout(showReady, RESULT_SHOWN_MS);
}

function showReady() {
  showResult("ready", "Ready", {detail: "Scan a ticket"});
}

async function refreshCount() {
  const event = currentEvent();
  if (!event || $("scan").hidden) return;
  try {
    const response = await call("GET", `/events/${event._id}/checkins`);
    if (!response.ok) return;
    const counts = await response.json();
    $("admitted").textContent = counts.admitted;
    $("expected").textContent = counts.expected;
  } catch {
    // No connection (the next scan says so), or signed out: the count stays as it was.
  }
}

// Helpers and start

function say(id, text) {
  $(id).textContent = text;
}

function clock(isoDate) {
  return new Date(isoDate).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
}

function start() {
  $("login-form").addEventListener("submit", logIn);
  $("scan-form").addEventListener("submit", scanSubmitted);
  $("code").addEventListener("blur", () => setTimeout(focusCode, 0));
  document.addEventListener("keydown", keyOutsideTheField);
  window.addEventListener("focus", focusCode);
  $("reload-events").addEventListener("click", showEvents);
  $("change-event").addEventListener("click", showEvents);
  for (const button of document.querySelectorAll(".log-out")) {
    button.addEventListener("click", () => signOut(""));
  }
  setInterval(refreshCount, COUNT_EVERY_MS);
  if (!session.getItem("token")) signOut("");
  else if (currentEvent()) showScan();
  else showEvents();
}

start();
