# Two commands: `make run` starts the whole product locally, `make test` checks everything.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help run test lint typecheck pytest deps clean

# Azure runs Python 3.13 (infra/); prefer it for the virtualenv, fall back to python3.
PY313 := $(shell for c in python3.13 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13 /usr/bin/python3.13 /usr/local/bin/python3.13; do \
	"$$c" -c 'import sys' >/dev/null 2>&1 && { echo "$$c"; break; }; done)
BASE_PY := $(or $(PY313),python3)
VENV := .venv
PY := $(VENV)/bin/python

help:
	@echo "make run   start Azurite, the sandboxes (when no real credentials are set) and the local Functions host"
	@echo "make test  install what is needed, then ruff, mypy and pytest (unit, integration, browser)"

# The sandboxes are a package of their own (local/sandbox/pyproject.toml), installed editable beside the rest.
$(VENV)/.installed: requirements.txt requirements-dev.txt local/sandbox/pyproject.toml
	@test -x $(PY) || $(BASE_PY) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet -e local/sandbox
	@touch $@

# Azure's own Python worker (Python 3.13+ only) indexes function_app.py in the tests, as Azure does.
.venv-worker/.installed: requirements.txt
	@test -n "$(PY313)" || { echo "python3.13 was not found: it is needed to index the app with Azure's worker (azure-functions-runtime). Install Python 3.13 and run make test again."; exit 1; }
	@test -x .venv-worker/bin/python || $(PY313) -m venv .venv-worker
	.venv-worker/bin/python -m pip install --quiet azure-functions-runtime==1.3.0 -r requirements.txt
	@touch $@

# checkov (checks infra/'s Bicep) lives in its own virtualenv so its many dependencies cannot move the
# app's pinned ones. The stamp names the version: changing the pin reinstalls.
CHECKOV_VERSION := 3.3.30
CHECKOV_STAMP := .venv-checkov/.installed-$(CHECKOV_VERSION)
$(CHECKOV_STAMP):
	@test -x .venv-checkov/bin/python || $(BASE_PY) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet checkov==$(CHECKOV_VERSION)
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
/usr/bin/chromium:
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "Chromium is missing: run 'sudo apt-get install -y chromium' (browser tests need /usr/bin/chromium)"; exit 1; fi

deps: $(VENV)/.installed node_modules/.installed

run: deps
	$(PY) -m local.run

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

pytest: deps .venv-worker/.installed $(CHECKOV_STAMP) /usr/bin/chromium
	$(VENV)/bin/pytest

test: lint typecheck pytest

clean:
	rm -rf .local test-artifacts
