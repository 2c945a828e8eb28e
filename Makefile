# Two commands on a fresh machine: `make run` (the demo) and `make test` (everything a change must pass).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install lint bench bench-growth messages

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: install
	DEBUG=true $(PY) manage.py migrate --noinput
	DEBUG=true $(PY) manage.py seed_demo
	DEBUG=true bin/run-demo

lint: install
	$(VENV)/bin/ruff check .
	SECRET_KEY=$${SECRET_KEY:-make-test-only-insecure-key} $(PY) manage.py makemigrations --check --dry-run

test: lint
	SECRET_KEY=$${SECRET_KEY:-make-test-only-insecure-key} $(PY) -m pytest -n $${TEST_WORKERS:-2} $(PYTEST_ARGS)

messages: install
	cd caseload && ../$(PY) ../manage.py makemessages -l fr --no-obsolete && ../$(PY) ../manage.py compilemessages -l fr

# The benchmarks (caseload/bench/): a generated data set (100,000 clients by default) and every scenario of issue 7,
# each beside a floor measured in the same run; a table on screen and JSON in var/bench/. Options after BENCH_ARGS=
# (manage.py bench --help: --clients, --scenarios, --repeat ...). On DATABASE_URL when set, else on its own SQLite
# file (never the demo's). bench-growth: search, profile and export at 10,000, 100,000 and 1,000,000 clients (the
# million on PostgreSQL only), each size in its own database, and how each figure grows with the size.
BENCH_ENV = SECRET_KEY=$${SECRET_KEY:-make-bench-only-insecure-key} DATABASE_URL=$${DATABASE_URL:-sqlite:///var/bench.sqlite3}
bench: install
	$(BENCH_ENV) $(PY) manage.py migrate --noinput -v 0
	$(BENCH_ENV) $(PY) manage.py bench $(BENCH_ARGS)

bench-growth: install
	$(BENCH_ENV) $(PY) manage.py migrate --noinput -v 0
	$(BENCH_ENV) $(PY) manage.py bench_growth $(BENCH_ARGS)
