"""The README's walkthrough (`make demo`: `demo/walkthrough.sh`), run end to end against a
live `make run`, as a new user runs it: it stops at the first reply that is not the one
the README promises."""

import subprocess

import pytest

from support import ROOT, ctrl_c, dev_env, free_port, start_make_run, wait_until_serving

pytestmark = pytest.mark.system  # (pyproject.toml: the system tests)

DONE = "Walkthrough done: every step answered as the README says.\n"


def make_demo(env):
    return subprocess.run(["make", "--no-print-directory", "demo"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_readme_walkthrough_runs_against_make_run_and_stops_at_a_wrong_answer(tmp_path):
    env = dev_env(tmp_path)
    run = start_make_run(env)
    try:
        wait_until_serving(f"http://127.0.0.1:{env['PORT']}", run)
        demo = make_demo(env)
        stripe_elsewhere = make_demo({**env, "EMBEDDED_STRIPE_PORT": str(free_port())})
    finally:
        ctrl_c(run)
    vacant = free_port()
    nothing_serving = make_demo({**env, "PORT": str(vacant)})

    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert demo.stdout.endswith(DONE)
    assert [line for line in demo.stdout.splitlines() if line.startswith("== ")] == [
        f"== {step}. {title}" for step, title in enumerate(TITLES, start=1)]
    # The browser's step cannot reach the stand-in: the script says so and stops there;
    # with nothing serving at PORT, the first request does.
    assert stripe_elsewhere.returncode != 0
    assert "== 5. " in stripe_elsewhere.stdout and "== 6. " not in stripe_elsewhere.stdout
    assert DONE not in stripe_elsewhere.stdout
    assert "FAILED: the Stripe stand-in at http://127.0.0.1:" in stripe_elsewhere.stderr
    assert nothing_serving.returncode != 0
    assert f"FAILED: no answer from http://127.0.0.1:{vacant}:" in nothing_serving.stderr


TITLES = [
    "Sign up and log in: keep the access token",
    "Make the account an admin (on the server), log in again for a token with the role",
    "Create an event a month from now: 100 seats at 25.00 (prices are in cents)",
    "Hold a seat (pending for 15 minutes), then pay server-side with a test card",
    "Hold another and pay the browser's way: 202 with a clientSecret, confirm, poll",
    "A card that asks for 3-D Secure: 202, authenticate in the browser, poll",
    "A declined card: 402 with the reason; the hold stays, pay again with another card",
    "What the venue sees: the event's numbers",
    "At the door (door staff or admins): the first scan admits, the second says when",
    "Staff give the last ticket back: refunded in full through Stripe",
]
