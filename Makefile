# Two commands for a fresh machine with Python 3.11 and make: `make run` and `make test`.
# Without DATABASE_URL / REDIS_URL, musicapp.dev.devservices starts an embedded PostgreSQL and Redis
# under .devdata/ for the duration of the command and stops them afterwards.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
WEB_CONCURRENCY ?= 1
PYTEST_ARGS ?=
DEV := $(PY) -m musicapp.dev.devservices
TYPECHECK := DATABASE_URL=postgres://typecheck@127.0.0.1:1/none REDIS_URL=redis://127.0.0.1:1/0 \
	SECRET_KEY=typecheck-only $(VENV)/bin/mypy .

.PHONY: run test lint typecheck format manage lock clean-devdata chromium proxy-tools bench fuzz drills

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# Migrate, collect static files, make the local staff login, load the demo catalog if the
# database has none, then run Procfile.dev with honcho: REST + WebSockets + admin from one ASGI
# server (uvicorn) on one origin, and a job worker (mail, schedules). Ctrl-C or SIGTERM stops both.
# (granian's ASGI mode drops the close codes Channels consumers send: docs/PERFORMANCE.md.)
run: $(VENV)/.installed
	$(DEV) --exclusive run -- sh -c '\
	  $(PY) manage.py migrate --noinput && \
	  $(PY) manage.py collectstatic --noinput --verbosity 0 && \
	  $(PY) manage.py dev_setup && \
	  PATH="$(CURDIR)/$(VENV)/bin:$$PATH" WEB_CONCURRENCY=$(WEB_CONCURRENCY) \
	    exec $(VENV)/bin/honcho start --no-colour --env /dev/null --procfile Procfile.dev --port $(PORT)'

# Browser tests drive Debian's chromium; install it where we can (root with apt-get). Elsewhere
# the browser tests are skipped, saying why, and the rest of the suite runs.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser tests..."; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	      || echo "Could not install chromium: the browser tests will be skipped."; \
	  else echo "chromium is not installed: the browser tests will be skipped."; fi; }

# The production-layout test (tests/test_production_layout.py) runs Debian's nginx and pgbouncer
# from their packages, unpacked under .devdata/debian/ (apt-get download + dpkg -x: nothing is
# installed system-wide and no service is started). Elsewhere that test is skipped, saying why.
DEBIAN_ROOT := .devdata/debian
proxy-tools:
	@test -x $(DEBIAN_ROOT)/usr/sbin/nginx -a -x $(DEBIAN_ROOT)/usr/sbin/pgbouncer || { \
	  if command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; then \
	    echo "Fetching Debian's nginx and pgbouncer for the production-layout test..."; \
	    mkdir -p $(DEBIAN_ROOT)/debs && cd $(DEBIAN_ROOT)/debs && \
	    { apt-get download nginx pgbouncer libc-ares2 >/dev/null 2>&1 || \
	      { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get download nginx pgbouncer libc-ares2 >/dev/null 2>&1; }; } && \
	    for deb in *.deb; do dpkg -x "$$deb" ..; done \
	    || echo "Could not fetch nginx and pgbouncer: the production-layout test will be skipped."; \
	  else echo "No apt-get: the production-layout test will be skipped."; fi; }

test: $(VENV)/.installed chromium proxy-tools
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(TYPECHECK)
	$(DEV) -- $(PY) -m pytest $(PYTEST_ARGS)

# Issue 14's benchmarks against its goals, their results written into docs/PERFORMANCE.md (its
# `make bench` block, by bench/run_all.py, with the exact commands): the data set topped up to
# BENCH_DATA (seed_demo --totals: a rerun adds nothing), then the production layout under load (bench/load.py: closed loop, catalog through nginx, open loop,
# Zipf mix), 10,000 session sockets on two ws processes, one live playlist with 3,000 listeners,
# logins from 10 clients, and cost growth with the plays table. Needs Debian's wrk (installed
# here where apt-get can) and nginx (make proxy-tools). BENCH_ARGS go to bench/load.py.
BENCH_DATA ?= --songs 100000 --users 10000 --plays 1000000 --playlists 20000
bench: $(VENV)/.installed proxy-tools
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } || \
	  { echo "bench needs Debian's wrk (apt-get install wrk)"; exit 1; }
	$(DEV) -- sh -c '\
	  $(PY) manage.py migrate --noinput && \
	  $(PY) manage.py seed_demo --totals $(BENCH_DATA) && \
	  $(PY) bench/run_all.py --data-set "$(BENCH_DATA)" --load-args "$(BENCH_ARGS)"'

# The fuzzers at full size (issue 15): schemathesis over every operation of /api/schema, anonymous
# and signed in, all checks, new examples each run, at least 20,000 requests; and the WebSocket
# fuzzer, 20,000 random and malformed frames per socket. `make test` runs both small.
FUZZ_EXAMPLES ?= 150
fuzz: $(VENV)/.installed
	SCHEMATHESIS_EXAMPLES=$(FUZZ_EXAMPLES) SCHEMATHESIS_RANDOM=1 FUZZ_MIN_REQUESTS=20000 \
	WS_FUZZ_FRAMES=20000 FUZZ_RANDOM=1 \
	  $(DEV) -- $(PY) -m pytest -s tests/test_schemathesis.py tests/test_ws_fuzz.py $(PYTEST_ARGS)

# Fault drills under load (issue 15; bench/drills.py, docs/RELIABILITY.md): Redis stopped,
# PostgreSQL stalled and restarted, an app process and the worker killed, Meilisearch hung.
drills: $(VENV)/.installed proxy-tools
	$(DEV) -- sh -c '$(PY) manage.py migrate --noinput && $(PY) manage.py seed_demo --if-empty && $(PY) bench/drills.py $(DRILL_ARGS)'

# Any manage.py command against the same services, e.g. `make manage CMD="createsuperuser"`.
manage: $(VENV)/.installed
	$(DEV) -- $(PY) manage.py $(CMD)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy with django-stubs and djangorestframework-stubs (pyproject.toml). The plugin loads the
# settings, which only need the URLs to be well-formed: nothing is connected to.
typecheck: $(VENV)/.installed
	$(TYPECHECK)

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Re-pin requirements*.txt from requirements*.in in a throwaway venv.
lock:
	rm -rf /tmp/musicapp-lock && $(PYTHON) -m venv /tmp/musicapp-lock
	/tmp/musicapp-lock/bin/pip install --quiet -r requirements.in
	{ echo "# Pinned runtime set: the direct dependencies are in requirements.in; regenerate with"; \
	  echo "#   make lock"; /tmp/musicapp-lock/bin/pip freeze; } > requirements.txt
	/tmp/musicapp-lock/bin/pip freeze | sort > /tmp/musicapp-lock/runtime.txt
	/tmp/musicapp-lock/bin/pip install --quiet -r requirements-dev.in
	{ echo "# Pinned local/CI set (embedded services, test tools) on top of requirements.txt; regenerate with"; \
	  echo "#   make lock"; echo "-r requirements.txt"; \
	  /tmp/musicapp-lock/bin/pip freeze | sort | comm -13 /tmp/musicapp-lock/runtime.txt -; } > requirements-dev.txt

clean-devdata:
	rm -rf .devdata
