# Front Desk Voice — the two commands are `make run` and `make test`; both work from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages the tests use (speech made by voices unlike ours, audio tools, a SIP peer,
# the browser the Playwright tests drive: no browser is ever downloaded).
DEB_PACKAGES := flite espeak-ng sox sip-tester openssl chromium

.PHONY: setup run test test-live lint bench clean debs asterisk asterisk-stop

setup: $(STAMP) debs

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

run: $(STAMP)
	$(BIN)/frontdesk run

test: setup
	$(BIN)/ruff check app tests migrations
	$(BIN)/mypy
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
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
