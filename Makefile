# lipsync_site: `make run` for a working site, `make test` for the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := run

VENV := .venv
PY := $(VENV)/bin/python
# Reinstall only when the requirements change.
REQ_STAMP := $(VENV)/.installed-$(shell cat requirements.txt | sha1sum | cut -c1-12)
DEV_STAMP := $(VENV)/.installed-dev-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)

# The demo runs jobs at once and still queues every attestation for the moderator;
# production's default is review before the job runs (CONSENT_REVIEW_POLICY=before).
export CONSENT_REVIEW_POLICY ?= after

.PHONY: run test install install-dev lint fmt bench check-deploy clean messages

$(PY):
	@interpreter=$$(scripts/find-python) && echo "Creating $(VENV) with $$interpreter" && "$$interpreter" -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip

$(REQ_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-* && touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-dev-* && touch $@ $(REQ_STAMP)

install: $(REQ_STAMP)

install-dev: $(DEV_STAMP)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py seed_demo
	@echo "Starting web (http://127.0.0.1:8000), worker, tracker and provider simulators; Ctrl-C stops them all."
	$(VENV)/bin/honcho -f Procfile.dev start

test: install-dev
	@scripts/ensure-chromium
	@scripts/ensure-nginx
	$(PY) -m pytest -n auto

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

fmt: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# After changing translatable strings (development only: makemessages needs GNU gettext).
messages: install-dev
	@command -v xgettext >/dev/null || { echo "makemessages needs GNU gettext: apt-get install gettext" >&2; exit 1; }
	$(PY) manage.py makemessages -l zh_Hans --ignore=".venv/*" --ignore="tests/*" --ignore="benchmarks/*" --ignore="staticfiles/*" --ignore="var/*" --no-obsolete
	$(PY) manage.py makemessages -d djangojs -l zh_Hans --ignore=".venv/*" --ignore="staticfiles/*" --ignore="static/vendor/*" --ignore="tests/*" --no-obsolete
	@echo "Translate the new entries in locale/zh_Hans/LC_MESSAGES/*.po, then: $(PY) manage.py compile_catalogs"

bench: install-dev
	$(PY) -m pytest -m bench -s

check-deploy: install
	DJANGO_ENV=production DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')" \
	DJANGO_ALLOWED_HOSTS=lipsync.example.com $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
