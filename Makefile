# Everyday commands. `make run` serves the portal with demo data on a fresh clone;
# `make test` runs the same checks as CI (.ci/run adds PostgreSQL and Redis).
#
# Without DATABASE_URL and REDIS_URL the settings fall back to SQLite under var/,
# eager Celery and a local-memory cache, so nothing else has to be running.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ADDRESS ?= 127.0.0.1:8000
PYTEST_ARGS ?=

# manage.py refuses to start without a secret key unless DEBUG is on.
MANAGE := DJANGO_DEBUG=true $(BIN)/python manage.py
# A real worker must not run tasks eagerly, or it would never take them off Redis.
CELERY := DJANGO_DEBUG=true CELERY_TASK_ALWAYS_EAGER=false $(BIN)/celery -A unportal

.PHONY: help install run migrate require-redis worker beat test lint format clean distclean \
	messages compilemessages

help:
	@echo "make run        set up .venv and var/, migrate, load demo data, serve on $(ADDRESS)"
	@echo "make test       lint, check migrations and run pytest (as CI does)"
	@echo "make lint       ruff check and ruff format --check"
	@echo "make format     ruff format and ruff check --fix"
	@echo "make worker     a real Celery worker (needs REDIS_URL)"
	@echo "make beat       Celery beat (needs REDIS_URL)"
	@echo "make bench      rollup benchmark on PostgreSQL (SIZE=100000; SIZE=1000000 for the full run)"
	@echo "make messages   update locale/*/LC_MESSAGES/django.po from the code and templates"
	@echo "make clean      remove var/ (the local database), static files and caches"
	@echo "make distclean  clean, and remove .venv"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the dependencies may have changed.
$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -e ".[dev]"
	touch $@

install: $(INSTALLED)

var:
	mkdir -p var

migrate: $(INSTALLED) | var
	$(MANAGE) migrate --noinput

run: migrate compilemessages
	$(MANAGE) load_reference_data
	$(MANAGE) seed_demo
	$(MANAGE) build_demo_reports
	$(MANAGE) runserver $(ADDRESS)

require-redis:
	@test -n "$${REDIS_URL:-}" || { \
		echo "Set REDIS_URL (e.g. redis://127.0.0.1:6379/0), and run 'make run' with" \
			"the same REDIS_URL and CELERY_TASK_ALWAYS_EAGER=false to send it tasks." >&2; \
		exit 1; }

worker: require-redis migrate
	$(CELERY) worker -l INFO

beat: require-redis migrate
	$(CELERY) beat -l INFO

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint compilemessages | var
	$(MANAGE) makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

# The bench creates, reuses and drops only its own database (see bench/README.md),
# and its Celery worker gets a Redis database of its own so it never takes
# another process's jobs. BENCH_ARGS: e.g. --regenerate, --repeat 5, --explain.
SIZE ?= 100000
BENCH_ARGS ?=
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/13

.PHONY: bench
bench: $(INSTALLED)
	DATABASE_URL="$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/unportal_bench}" \
	REDIS_URL="$(BENCH_REDIS_URL)" CELERY_TASK_ALWAYS_EAGER=false DJANGO_DEBUG=false \
	DJANGO_SECRET_KEY=unportal-bench-only-not-a-secret DJANGO_LOG_LEVEL=WARNING \
	$(BIN)/python -m bench.run --size $(SIZE) $(BENCH_ARGS)

# The five languages besides English (the source language); msgfmt comes from
# GNU gettext (Debian: gettext), which Django's compilemessages needs.
LOCALES := fr es ru ar zh_Hans
MESSAGE_IGNORE := --ignore=.venv --ignore=tests --ignore=bench --ignore=var --ignore=staticfiles

messages: $(INSTALLED)
	$(MANAGE) makemessages --no-obsolete $(MESSAGE_IGNORE) $(addprefix -l ,$(LOCALES))

compilemessages: $(INSTALLED)
	@command -v msgfmt >/dev/null || { echo "msgfmt not found: install GNU gettext (apt-get install gettext)" >&2; exit 1; }
	$(MANAGE) compilemessages $(MESSAGE_IGNORE) -v 0

clean:
	rm -rf var staticfiles .pytest_cache .ruff_cache .hypothesis test-results
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
