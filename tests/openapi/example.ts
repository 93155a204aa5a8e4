// A frontend's first calls, typed by the client openapi-typescript generates from the
// live /openapi.json into `api.ts` beside this file: log in, list events, hold seats, pay
// in the browser with Stripe Elements, and tell refusals apart by their `code`.
// `make test` type-checks it with `tsc --strict` (tests/test_openapi_tools.py); it never runs.
// It stops compiling when an operation it names loses its `operationId`, a property it
// reads stops being `required`, a refusal's `code` stops being an enum, or a request
// field with a default (`quantity`) is typed as one the frontend must send.

import type { components, operations } from "./api";

type Event = components["schemas"]["Event"];
type Ticket = components["schemas"]["Ticket"];
type ErrorBody = components["schemas"]["Error"];
type Credentials = operations["login"]["requestBody"]["content"]["application/json"];
type LoggedIn = operations["login"]["responses"][201]["content"]["application/json"];
type Hold = operations["createTicket"]["requestBody"]["content"]["application/json"];
type HoldRefused = operations["createTicket"]["responses"][409]["content"]["application/json"];
type Payment = operations["payTicket"]["requestBody"]["content"]["application/json"];
type ConfirmInBrowser = operations["payTicket"]["responses"][202]["content"]["application/json"];

const API = "http://127.0.0.1:5000";

/** An error reply: its status and body (`{message, code}`). */
export class Refusal extends Error {
  constructor(readonly status: number, readonly body: ErrorBody) {
    super(body.message);
  }
}

async function call<Reply>(method: "GET" | "POST", path: string, token?: string, body?: object): Promise<Reply> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (token !== undefined) {
    headers["Authorization"] = `Bearer ${token}`;
  }
  const response = await fetch(API + path, { method, headers, body: body && JSON.stringify(body) });
  if (!response.ok) {
    throw new Refusal(response.status, (await response.json()) as ErrorBody);
  }
  return (await response.json()) as Reply;
}

export async function logIn(credentials: Credentials): Promise<string> {
  const reply = await call<LoggedIn>("POST", "/auth/login", undefined, credentials);
  const token: string = reply.token;
  return token;
}

export async function upcomingEvents(): Promise<Event[]> {
  return call<Event[]>("GET", "/events?upcoming=true");
}

/** "Jazz night: 12 seats left at 25.00 USD": prices are in minor units. */
export function onSale(event: Event): string {
  const left: number = event.ticketsAvailable;
  const price: number = event.price;
  return `${event.name}: ${left} seats left at ${(price / 100).toFixed(2)} ${event.currency.toUpperCase()}`;
}

/** Without a `quantity`, one seat: a field with a default may be left out. */
export async function holdSeats(token: string, event: Event, quantity?: number): Promise<Ticket> {
  const hold: Hold = { eventId: event._id, quantity };
  return call<Ticket>("POST", "/tickets", token, hold);
}

/** Stripe Elements: the 202's `clientSecret` to Stripe.js, then poll the ticket until it is settled. */
export async function payInTheBrowser(
  token: string,
  ticket: Ticket,
  confirmCardPayment: (clientSecret: string) => Promise<void>,
): Promise<Ticket> {
  const payment: Payment = { ticketId: ticket._id, amount: ticket.amount };
  const reply = await call<ConfirmInBrowser>("POST", "/payment", token, payment);
  await confirmCardPayment(reply.clientSecret);
  let polled: Ticket = ticket;
  while (polled.status === "pending") {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    polled = await call<Ticket>("GET", `/tickets/${ticket._id}`, token);
  }
  return polled;
}

/** Which screen a refused hold needs: by `code`, never by parsing `message`. */
export function whyNoSeats(refusal: HoldRefused): string {
  switch (refusal.code) {
    case "sold_out":
      return "Sold out.";
    case "seat_limit":
      return "You hold as many seats as one account may for this event.";
    case "event_cancelled":
      return "This event is cancelled.";
  }
}

export async function buyOneSeat(
  credentials: Credentials,
  confirmCardPayment: (clientSecret: string) => Promise<void>,
): Promise<string> {
  const token = await logIn(credentials);
  const [event] = await upcomingEvents();
  let held: Ticket;
  try {
    held = await holdSeats(token, event);
  } catch (error) {
    if (error instanceof Refusal && error.status === 409) {
      return whyNoSeats(error.body as HoldRefused);
    }
    throw error;
  }
  const ticket = await payInTheBrowser(token, held, confirmCardPayment);
  return `${onSale(event)}: your ticket is ${ticket.status}, door code ${ticket.code ?? "none"}`;
}
