# Front Desk Voice — the two commands are `make run` and `make test`; both work from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages the tests use (speech made by voices unlike ours, audio tools, a SIP peer,
# the browser the Playwright tests drive: no browser is ever downloaded; Node.js builds the
# phone page's script).
DEB_PACKAGES := flite espeak-ng sox sip-tester openssl chromium nodejs

# The staff pages' scripts: npm packages pinned in web/package-lock.json, bundled by esbuild
# into app/web/static/build/ (git-ignored). Rebuilt when the lockfile or a source changes.
WEB_STAMP := app/web/static/build/.built
WEB_SOURCES := web/package.json web/package-lock.json $(wildcard web/src/*.js)

.PHONY: setup run test test-live lint bench clean debs asterisk asterisk-stop web

setup: $(STAMP) debs web

web: $(WEB_STAMP)

$(WEB_STAMP): $(WEB_SOURCES)
	@# Debian's nodejs comes without npm (NodeSource's has it): add Debian's when it is missing
	@if command -v node >/dev/null && ! command -v npm >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  apt-get install -y -qq npm >/dev/null 2>&1 || true; \
	fi
	@if command -v npm >/dev/null && command -v node >/dev/null; then \
	  cd web && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build && \
	  touch ../$(WEB_STAMP); \
	else \
	  echo "note: node and npm are not installed: the staff pages' scripts (phone, dashboard) are not built (apt-get install nodejs npm)"; \
	fi

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

# Installs what is missing when we may (root); otherwise says what to install.
debs:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages:$$missing"; \
	    (apt-get install -y -qq $$missing >/dev/null 2>&1 || \
	     (apt-get update -qq >/dev/null && apt-get install -y -qq $$missing >/dev/null)) || \
	     { echo "could not install:$$missing"; exit 1; }; \
	  else \
	    echo "note: missing Debian packages:$$missing (sudo apt-get install$$missing)"; \
	  fi; \
	fi

run: $(STAMP) web
	$(BIN)/frontdesk run

test: setup
	$(BIN)/ruff check app tests migrations
	$(BIN)/mypy
	@if command -v node >/dev/null; then cd web && node --test test/; else echo "note: no node: the phone's script tests are skipped"; fi
	@# every test, the live ones included: they skip with the reason when no asterisk is installed
	$(BIN)/pytest -q

test-live: setup
	$(BIN)/pytest -m live -q -rs tests/live; rc=$$?; [ $$rc -eq 5 ] && echo "no live tests collected" && rc=0; exit $$rc

# Development PBX: an installed `asterisk` with asterisk-config/ and dialplan/, in .data/asterisk.
asterisk: $(STAMP)
	$(BIN)/frontdesk asterisk start

asterisk-stop: $(STAMP)
	$(BIN)/frontdesk asterisk stop

lint: $(STAMP)
	$(BIN)/ruff check app tests migrations
	$(BIN)/ruff format --check app tests migrations
	$(BIN)/mypy

bench: $(STAMP)
	@ls bench/*.py >/dev/null 2>&1 && for b in bench/*.py; do $(BIN)/python $$b; done || echo "no benchmarks yet"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache web/node_modules app/web/static/build
