# Switchboard — the two commands of the README, and the steps they are made of.
#   make run    install everything, start Postgres, migrate, seed demo data, start the product
#   make test   install everything the tests need and run them all
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export REFLEX_TELEMETRY_ENABLED := false
export REFLEX_CHECK_LATEST_VERSION := false
export PYTHONUNBUFFERED := 1
export NPM_CONFIG_REGISTRY := https://registry.npmjs.org
PYTEST_ARGS ?=

.PHONY: run test deps system-deps bench clean

deps: system-deps $(VENV)/.installed node_modules/.installed

system-deps:
	@bash scripts/system-deps.sh

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[app,functions,worker,test]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

run: deps
	$(PY) -m switchboard run

test: deps
	$(PY) -m pytest $(PYTEST_ARGS)

bench: deps
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	-$(PY) -m switchboard db down
	rm -rf .data .web
