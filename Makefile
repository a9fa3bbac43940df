# Two commands: `make run` serves the demo site, `make test` runs the suite.
# Both set everything up from a fresh clone (Python 3.11+, Node 20+).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# Two xdist workers: each gets its own databases (see tests/conftest.py), and CI has 2 cores.
# Tests go out two at a time, long ones first (tests/conftest.py), so the workers end together.
PYTEST_WORKERS ?= 2
XDIST := -n $(PYTEST_WORKERS) --maxschedchunk 2
STATIC_NHSUK := feedback/static/nhsuk
# Interface translations (gettext). The .po files are committed; .mo files are built here.
TRANSLATIONS := feedback/translations
PO_FILES := $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po)
PYBABEL_KEYWORDS := -k _l -k lazy_gettext -k lazy_ngettext:1,2

.PHONY: setup run test lint assets clean translations-extract translations-update \
	translations-compile translations-init lock bench-deps test-slow

# Locked installs (pip-tools): requirements.lock holds what the app needs, with hashes;
# requirements-test.lock adds the test tools. `make lock` refreshes both from pyproject.toml.
LOCK_OPTIONS := --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
	--no-emit-find-links $(if $(UPGRADE),--upgrade)

$(BIN)/.installed: pyproject.toml requirements.lock requirements-test.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements-test.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# `make lock` after changing dependencies; `make lock UPGRADE=1` moves every pin to the newest.
lock:
	@test -x $(BIN)/pip || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet 'pip-tools>=7.5,<8'
	$(BIN)/pip-compile $(LOCK_OPTIONS) -o requirements.lock pyproject.toml
	$(BIN)/pip-compile $(LOCK_OPTIONS) --extra test -c requirements.lock \
		-o requirements-test.lock pyproject.toml

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(STATIC_NHSUK)/.copied: node_modules/.installed scripts/copy_assets.py feedback/core/languages.toml
	$(PYTHON) scripts/copy_assets.py

assets: $(STATIC_NHSUK)/.copied

setup: $(BIN)/.installed assets $(TRANSLATIONS)/.compiled

$(TRANSLATIONS)/.compiled: $(PO_FILES) $(TRANSLATIONS)/messages.pot scripts/pseudo_locale.py \
		| $(BIN)/.installed
	$(BIN)/pybabel -q compile -d $(TRANSLATIONS)
	$(BIN)/python scripts/pseudo_locale.py
	touch $@

translations-extract: $(BIN)/.installed
	@mkdir -p $(TRANSLATIONS)
	$(BIN)/pybabel extract -F babel.cfg $(PYBABEL_KEYWORDS) --no-location --sort-output --no-wrap \
		--project "Feedback Loop" --copyright-holder "Feedback Loop contributors" \
		-o $(TRANSLATIONS)/messages.pot .

translations-update: translations-extract
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-wrap \
		--no-fuzzy-matching

translations-compile: $(BIN)/.installed
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics
	$(BIN)/python scripts/pseudo_locale.py
	touch $(TRANSLATIONS)/.compiled

# A new language: make translations-init LOCALE=so (Babel form: pa_Guru, not pa-Guru).
translations-init: translations-extract
	$(BIN)/pybabel init -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l $(LOCALE) --no-wrap

# `make run PORT=5050`: links in emails and feeds follow the port unless FEEDBACK_BASE_URL is set.
PORT ?= 5000
RUN_ENV := FEEDBACK_BASE_URL="$${FEEDBACK_BASE_URL:-http://127.0.0.1:$(PORT)}"

run: setup
	$(RUN_ENV) $(BIN)/feedback db upgrade
	$(RUN_ENV) $(BIN)/feedback seed-demo --if-empty
	$(RUN_ENV) $(BIN)/feedback run --host 127.0.0.1 --port $(PORT)

test: setup
	@echo "== the suite on SQLite"
	env -u FEEDBACK_TEST_DATABASE_URL $${FEEDBACK_TEST_DATABASE_URL:+FEEDBACK_BROWSER_PASS=postgresql} \
		$(BIN)/pytest $(XDIST) $(PYTEST_ARGS)
	@if [ -n "$$FEEDBACK_TEST_DATABASE_URL" ]; then \
		echo "== the same suite on PostgreSQL ($$FEEDBACK_TEST_DATABASE_URL)"; \
		$(BIN)/pytest $(XDIST) $(PYTEST_ARGS); \
	fi

# The `slow` tests (schemathesis: 100 generated requests per API operation, health checks
# on), left out of `make test`. SQLite only: the API's answers do not depend on the database,
# and one pass keeps CI's step at about a minute on 2 cores.
test-slow: setup
	@echo "== the slow tests (schemathesis) on SQLite"
	env -u FEEDBACK_TEST_DATABASE_URL $(BIN)/pytest $(XDIST) -m slow $(PYTEST_ARGS)

# The benchmarks' load generator (bench/pages.py): Debian's wrk, installed only if missing.
bench-deps: setup
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) node_modules $(STATIC_NHSUK) .pytest_cache .ruff_cache
	find $(TRANSLATIONS) -name '*.mo' -delete; rm -rf $(TRANSLATIONS)/.compiled $(TRANSLATIONS)/en_XA
