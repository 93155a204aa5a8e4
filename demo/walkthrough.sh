#!/usr/bin/env bash
# The README's walkthrough, against a running `make run`: every step prints the request
# and the reply, and stops the script when the reply is not the one the README promises.
#
#   make run      # in one terminal
#   make demo     # in another (or: bash demo/walkthrough.sh)
#
# Settings, as for `make run`: PORT (5000), EMBEDDED_STRIPE_PORT (12111), DATA_DIR
# (instance/, for `make admin`). Needs curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

API="http://127.0.0.1:${PORT:-5000}"
STRIPE="http://127.0.0.1:${EMBEDDED_STRIPE_PORT:-12111}"   # the Stripe stand-in of make run
NAME="ada-$(date +%s)-$RANDOM"                                 # a new account on every run
EMAIL="$NAME@example.com"
PASSWORD="correct horse battery"

# call EXPECTED_STATUS METHOD PATH [JSON_BODY]: prints the reply; it is also in $REPLY.
call() {
  local expected=$1 method=$2 path=$3 body=${4:-}
  local out; out=$(mktemp)
  local args=(-s -o "$out" -w '%{http_code}' -X "$method" "$API$path")
  [[ -n ${TOKEN:-} ]] && args+=(-H "Authorization: Bearer $TOKEN")
  [[ -n $body ]] && args+=(-H 'Content-Type: application/json' -d "$body")
  echo "\$ $method $path $body"
  local status
  status=$(curl "${args[@]}") || {
    rm -f "$out"
    echo "FAILED: no answer from $API: is make run serving there (the same PORT)?" >&2
    exit 1
  }
  REPLY=$(cat "$out"); rm -f "$out"
  echo "  -> $status $REPLY"
  if [[ $status != "$expected" ]]; then
    echo "FAILED: expected $expected" >&2
    exit 1
  fi
}

# field NAME [JSON]: one field of the last reply (or of JSON), as text.
field() {
  python3 -c 'import json, sys; value = json.loads(sys.argv[2])
for key in sys.argv[1].split("."): value = value[key]
print(value)' "$1" "${2:-$REPLY}"
}

# expect NAME VALUE: the last reply's field NAME is VALUE, or the script stops.
expect() {
  local found; found=$(field "$1")
  if [[ $found != "$2" ]]; then
    echo "FAILED: expected $1 to be $2, not $found" >&2
    exit 1
  fi
}

# confirm_in_browser PAYMENT_ID CLIENT_SECRET ACTION: what Stripe.js does in the browser,
# done with curl at the stand-in (ACTION: confirm, or _authenticate for 3-D Secure).
confirm_in_browser() {
  local form=(-d "client_secret=$2" -d key=pk_test_demo)
  [[ $3 == confirm ]] && form+=(-d payment_method=pm_card_visa) || form+=(-d success=true)
  echo "\$ (browser) POST $STRIPE/v1/payment_intents/$1/$3"
  curl -s -f -o /dev/null "${form[@]}" "$STRIPE/v1/payment_intents/$1/$3" || {
    echo "FAILED: the Stripe stand-in at $STRIPE did not take it: is EMBEDDED_STRIPE_PORT make run's?" >&2
    exit 1
  }
}

# wait_until_confirmed TICKET_ID: poll the ticket, as a frontend does after the browser step.
wait_until_confirmed() {
  for _ in $(seq 20); do
    call 200 GET "/tickets/$1"
    if [[ $(field status) == confirmed ]]; then return; fi
    sleep 1
  done
  echo "FAILED: ticket $1 never confirmed" >&2
  exit 1
}

echo "== 1. Sign up and log in: keep the access token"
call 201 POST /auth/signup "{\"username\": \"$NAME\", \"email\": \"$EMAIL\", \"password\": \"$PASSWORD\"}"
call 201 POST /auth/login "{\"email\": \"$EMAIL\", \"password\": \"$PASSWORD\"}"
TOKEN=$(field token)

echo "== 2. Make the account an admin (on the server), log in again for a token with the role"
make --no-print-directory -s admin EMAIL="$EMAIL"
call 201 POST /auth/login "{\"email\": \"$EMAIL\", \"password\": \"$PASSWORD\"}"
TOKEN=$(field token)
call 200 GET /auth/me

echo "== 3. Create an event a month from now: 100 seats at 25.00 (prices are in cents)"
DATE=$(python3 -c 'import datetime as d; print((d.datetime.now(d.UTC) + d.timedelta(days=30)).isoformat())')
call 201 POST /events "{\"name\": \"Demo night\", \"date\": \"$DATE\", \"capacity\": 100, \"price\": 2500}"
EVENT=$(field _id)

echo "== 4. Hold a seat (pending for 15 minutes), then pay server-side with a test card"
call 201 POST /tickets "{\"eventId\": \"$EVENT\", \"quantity\": 1}"
TICKET=$(field _id)
call 200 POST /payment "{\"ticketId\": \"$TICKET\", \"amount\": 2500, \"token\": \"pm_card_visa\"}"
expect ticket.status confirmed
CODE=$(field ticket.code)   # the door code, also shown as a QR code: GET /tickets/<id>/qr.svg

echo "== 5. Hold another and pay the browser's way: 202 with a clientSecret, confirm, poll"
call 201 POST /tickets "{\"eventId\": \"$EVENT\", \"quantity\": 2}"
TICKET=$(field _id)
call 202 POST /payment "{\"ticketId\": \"$TICKET\", \"amount\": 5000}"
confirm_in_browser "$(field paymentId)" "$(field clientSecret)" confirm
wait_until_confirmed "$TICKET"

echo "== 6. A card that asks for 3-D Secure: 202, authenticate in the browser, poll"
call 201 POST /tickets "{\"eventId\": \"$EVENT\", \"quantity\": 1}"
TICKET=$(field _id)
call 202 POST /payment "{\"ticketId\": \"$TICKET\", \"amount\": 2500, \"token\": \"pm_card_threeDSecure2Required\"}"
expect message "Authentication required"
confirm_in_browser "$(field paymentId)" "$(field clientSecret)" _authenticate
wait_until_confirmed "$TICKET"

echo "== 7. A declined card: 402 with the reason; the hold stays, pay again with another card"
call 201 POST /tickets "{\"eventId\": \"$EVENT\", \"quantity\": 1}"
TICKET=$(field _id)
call 402 POST /payment "{\"ticketId\": \"$TICKET\", \"amount\": 2500, \"token\": \"pm_card_chargeDeclined\"}"
expect code card_declined
call 200 POST /payment "{\"ticketId\": \"$TICKET\", \"amount\": 2500, \"token\": \"pm_card_mastercard\"}"

echo "== 8. What the venue sees: the event's numbers"
call 200 GET "/events/$EVENT/summary"
expect sold 5

echo "== 9. At the door (door staff or admins): the first scan admits, the second says when"
call 200 POST /checkin "{\"code\": \"$CODE\", \"eventId\": \"$EVENT\"}"
expect result admitted
call 409 POST /checkin "{\"code\": \"$CODE\", \"eventId\": \"$EVENT\"}"
expect code already_checked_in

echo "== 10. Staff give the last ticket back: refunded in full through Stripe"
call 200 POST "/tickets/$TICKET/cancel"
expect status refunded

echo "Walkthrough done: every step answered as the README says."
