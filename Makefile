# Two commands for a new machine: `make run` and `make test`. Both create .venv and install what
# they need from requirements*.txt; neither needs a database or broker server installed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test test-services lint seed check-migrations clean-data bench

$(VENV)/.installed-runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(VENV)/.installed-runtime

## Set up and run the hub (API + admin + worker + beat) on the embedded default.
run: $(VENV)/.installed-runtime
	$(PY) manage.py runhub

## Set up, lint, and run the whole test suite (embedded PostgreSQL unless DATABASE_URL is set).
## The admin's browser tests need Debian's Chromium, the Node SDK and products Node 20 and npm:
## bin/ensure-chromium and bin/ensure-node install them from Debian's packages when they can.
test: lint
	bin/ensure-chromium
	bin/ensure-node
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .

## The suite against the machine's PostgreSQL, Redis and RabbitMQ (../shared/services.md).
test-services: $(VENV)/.installed-dev
	bin/ensure-chromium
	bin/ensure-node
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub \
	CELERY_BROKER_URL=redis://127.0.0.1:6379/14 \
	CACHE_URL=redis://127.0.0.1:6379/15 \
	$(PY) -m pytest -m "not once" $(PYTEST_ARGS)

## Benchmarks (bench/run.py): the hub under load against its own floor; writes bench/results/<date>.md.
bench: $(VENV)/.installed-dev
	command -v wrk >/dev/null || apt-get install -y -q wrk
	$(PY) -m bench.run

seed: $(VENV)/.installed-runtime
	$(PY) manage.py migrate --noinput && $(PY) manage.py seed

check-migrations: $(VENV)/.installed-dev
	$(PY) manage.py makemigrations --check --dry-run

## Stop the embedded PostgreSQL and delete .data/ (secrets, database, first staff login).
clean-data: $(VENV)/.installed-runtime
	$(PY) -c "from pathlib import Path; from core.embedded import stop_embedded_database; stop_embedded_database(Path('.data'))"
	rm -rf .data
