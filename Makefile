# Two commands on a fresh clone: `make run` and `make test`. Only Python 3.11+ and make are needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run test lint fmt check worker beat migrate demo bench bench-fanout bench-page clean messages

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

install: $(BIN)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo

# The web server, a Celery worker and beat (on the embedded broker without REDIS_URL); Ctrl-C stops all three.
# Links (SITE_URL) follow HOST and PORT unless SITE_URL is set: see statuspage/embedded.py.
run: demo staticfiles/.collected locale/.compiled
	$(BIN)/python -m statuspage.embedded --host $(HOST) --port $(PORT)

# Static files are collected (and compressed) again only when ours or the installed packages' change.
staticfiles/.collected: $(BIN)/.installed $(shell find static -type f 2>/dev/null)
	@echo "Collecting and compressing static files (once; about a minute on a small machine)…"
	$(BIN)/python manage.py collectstatic --noinput -v0
	touch $@

# The translations (locale/<lang>/LC_MESSAGES/django.po) are committed compiled (django.mo), so that Python and
# make suffice; with GNU gettext's msgfmt at hand (Debian: apt-get install gettext) they are compiled again here
# when one changes (tests/test_languages.py checks that the committed .mo files are what the .po files compile to).
locale/.compiled: $(BIN)/.installed $(wildcard locale/*/LC_MESSAGES/django.po)
	@if command -v msgfmt >/dev/null 2>&1; then $(BIN)/python manage.py compilemessages -v0 --ignore=.venv; \
	else echo "msgfmt not found: using the committed translations (locale/*/LC_MESSAGES/django.mo)"; fi
	touch $@

# After changing a public string: bring every language's catalogue up to date, then translate what it added.
messages: install
	$(BIN)/python -m statuspage.translations

check: install
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The test run brings its own secret: with DATABASE_URL set, the settings refuse to start without SECRET_KEY.
test: export SECRET_KEY ?= make-test-only-not-a-secret
# Two pytest-xdist workers (one per core here), each module kept on one worker; PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2
test: check lint locale/.compiled
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

worker: install
	$(BIN)/celery -A statuspage worker --loglevel=INFO

beat: install
	$(BIN)/celery -A statuspage beat --loglevel=INFO

# Needs REDIS_URL and DATABASE_URL (PostgreSQL); see the README, section Notifications.
bench-fanout: install
	$(BIN)/python bench/fanout.py

# Needs Debian's wrk (and nginx-light for the static rows); PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set.
bench-page: install
	$(BIN)/python bench/page.py

clean:
	rm -rf $(VENV) staticfiles var .pytest_cache .ruff_cache
