# The two commands: `make run` and `make test`.  Everything else is a step they share.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://root@127.0.0.1:5432/cqrs
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: run test venv node static migrate seed services-check lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet ".[test]"
	touch $@

venv: $(VENV)/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

node: node_modules/.installed

static/vendor/nhsuk/nhsuk-frontend.min.css: node_modules/.installed scripts/build-static.mjs
	npm run build

static: venv static/vendor/nhsuk/nhsuk-frontend.min.css
	$(PY) manage.py collectstatic --noinput --verbosity 0

migrate: venv
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

## make run: install, build static files, migrate, seed the demo and serve on 127.0.0.1:$(PORT)
run: static seed
	DEBUG=$${DEBUG:-true} $(PY) manage.py runserver 127.0.0.1:$(PORT)

services-check: venv
	@DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) scripts/check_services.py

## make test: the whole suite against PostgreSQL and Redis (browser tests included)
test: static services-check lint
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) -m pytest $(PYTEST_ARGS)

# lint: ruff, then the import-linter contract (apps depend one way: [tool.importlinter] in pyproject.toml)
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

clean:
	rm -rf $(VENV) node_modules staticfiles static/vendor db.sqlite3
