# Every target sets up .venv with the pinned requirements first; nothing else is needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

OPENAPI_TOOLS := tests/openapi/node_modules/.installed

.PHONY: install run serve demo test lint system-deps openapi-tools admin role reconcile bench bench-race clean

$(INSTALLED): requirements.txt requirements-dev.txt
	@echo "--> Installing the pinned requirements into $(VENV)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

install: $(INSTALLED)

run: install
	@echo "--> Starting ticket_api (Ctrl-C stops it and everything it started)"
	@$(PY) -m ticket_api.dev.launcher run

serve: install
	@echo "--> Starting ticket_api under gunicorn (gunicorn.conf.py; Ctrl-C stops everything)"
	@$(PY) -m ticket_api.dev.launcher serve

# The README's walkthrough, against a running `make run` (same PORT, EMBEDDED_STRIPE_PORT, DATA_DIR).
demo: install
	@bash demo/walkthrough.sh

# Debian packages the tests drive for real: nginx (deployment test), Chromium (/docs and
# /door tests) and chromium-driver (its chromedriver, which selenium drives /door through).
system-deps:
	@if ! { command -v nginx >/dev/null || test -x /usr/sbin/nginx; } || ! command -v chromium >/dev/null \
		|| ! command -v chromedriver >/dev/null; then \
		echo "--> Installing nginx, chromium and chromium-driver from Debian's packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx chromium chromium-driver \
		>/dev/null || { echo "--> could not install nginx, chromium and chromium-driver with apt-get (as root): the tests need them"; exit 1; }; \
	fi

# The OpenAPI tools the tests run over /openapi.json (a linter, a TypeScript client generator,
# tsc), pinned in tests/openapi/package.json and its lockfile; node and npm from Debian if missing.
$(OPENAPI_TOOLS): tests/openapi/package.json tests/openapi/package-lock.json
	@command -v npm >/dev/null || { echo "--> Installing node and npm from Debian's packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null \
		|| { echo "--> could not install nodejs and npm with apt-get (as root): the tests need them"; exit 1; }; }
	@echo "--> Installing the OpenAPI tools (npm ci in tests/openapi)"
	@cd tests/openapi && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch node_modules/.installed

openapi-tools: $(OPENAPI_TOOLS)

test: lint system-deps openapi-tools
	@echo "--> Running the tests"
	$(PY) -m pytest

lint: install
	@echo "--> Linting: ruff, then the architecture (lint-imports: contracts in pyproject.toml)"
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

admin: install
	@test -n "$(EMAIL)" || { echo "usage: make admin EMAIL=someone@example.com (with the DATA_DIR of make run, if not the default)"; exit 2; }
	@$(PY) -m ticket_api.dev.launcher exec $(PY) -m flask --app wsgi promote-admin "$(EMAIL)"

role: install
	@test -n "$(EMAIL)" && test -n "$(ROLE)" || { echo "usage: make role EMAIL=someone@example.com ROLE=admin|door|user (with the DATA_DIR of make run, if not the default)"; exit 2; }
	@$(PY) -m ticket_api.dev.launcher exec $(PY) -m flask --app wsgi set-role "$(EMAIL)" "$(ROLE)"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/openapi/node_modules

# The on-sale rush also runs on the old code, a commit checked out beside this tree (default
# 42662ca, before issue 22; another: make bench BENCH_BASELINE=<commit>), in the same run.
bench: install
	@command -v wrk >/dev/null || { echo "--> Installing wrk (Debian)"; apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
	@echo "--> Benchmarking under gunicorn on the embedded database, the rush against the old code too (about eight minutes)"
	@$(PY) -m tests.bench.onsale --write BENCHMARKS.md

bench-race: install
	@echo "--> The 100-buyer race under the dev server and gunicorn (about a minute)"
	@$(PY) -m tests.bench.race

reconcile: install
	@$(PY) -m ticket_api.dev.launcher exec $(PY) -m flask --app wsgi reconcile
