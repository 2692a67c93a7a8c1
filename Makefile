# Two commands from a fresh clone: `make run` (the local demo) and `make test` (the suite).
# Requirements are installed into .venv only when a requirements file changed (stamp files).
# Debian packages the targets need (Chromium, redis-server, PostgreSQL for the tests; the
# venv module for both) are installed by .ci/system-packages when missing, saying what.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.stamp-requirements
TEST_STAMP := $(VENV)/.stamp-requirements-test
PYTEST_ARGS ?=

.PHONY: run test lint typecheck format check system-packages-run system-packages-test prod-check soak

system-packages-run:
	@PYTHON=$(PYTHON) .ci/system-packages run

system-packages-test:
	@PYTHON=$(PYTHON) .ci/system-packages test

$(PY):
	@PYTHON=$(PYTHON) .ci/system-packages run
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(TEST_STAMP): requirements.txt requirements-test.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@ $(RUN_STAMP)

run: system-packages-run $(RUN_STAMP)
	$(PY) scripts/run_demo.py

# pytest's own exit status is kept for .ci/run (make itself only ever exits with 2).
test: system-packages-test $(TEST_STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS); status=$$?; echo $$status > $(VENV)/.pytest-exit-status; exit $$status

# The engine model driven for SOAK_STEPS random steps per mailbox kind, faults included
# (tests/syncengine/engine/soak_model.py); prints JSON, exits non-zero on a failure.
# Not part of `make test`. SOAK_SEED picks the first seed; one run is SOAK_RUN_STEPS.
SOAK_STEPS ?= 10000
SOAK_RUN_STEPS ?= 50
SOAK_SEED ?= 1
soak: $(TEST_STAMP)
	RELAY_SOAK_STEPS=$(SOAK_STEPS) RELAY_SOAK_RUN_STEPS=$(SOAK_RUN_STEPS) RELAY_SOAK_SEED=$(SOAK_SEED) \
		$(VENV)/bin/pytest -q -s -p no:cacheprovider tests/syncengine/engine/soak_model.py

lint: $(TEST_STAMP) typecheck
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy with django-stubs (config in pyproject.toml): strict for syncengine/, gradual elsewhere.
typecheck: $(TEST_STAMP)
	$(VENV)/bin/mypy

format: $(TEST_STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check: $(RUN_STAMP)
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

# The production settings under gunicorn + PostgreSQL + Redis + a Celery worker and beat on
# 127.0.0.1, driven through HTTP (deploy/prod_check.py); needs root for PostgreSQL/Redis.
prod-check: $(TEST_STAMP)
	.ci/prod-check
