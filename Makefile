# Two commands on a fresh machine with Python 3.11+ and make:
#   make demo   run the demo (SQLite, seeded demo user and app)
#   make test   lint, type-check and run every test (SQLite, then PostgreSQL), then
#               `docker compose up` for real on a container engine (test-compose)
PYTHON ?= python3
VENV := .venv
UV := .tools/bin/uv
UV_VERSION := 0.13.9
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
# The private Docker engine of our build machines, used where the machine has no Docker.
DOCKER_LOCAL ?= $(abspath ../shared/tools/docker-local.sh)

.PHONY: demo test lint test-sqlite test-postgres test-compose e2e-deps bench clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

# Bytecode compiled once here: with PYTHONDONTWRITEBYTECODE set (as on our test machines)
# every Python process would otherwise compile FastAPI, pydantic and SQLAlchemy again
# (about 3 s of CPU for each server or command a test starts).
$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet --compile-bytecode
	touch $@

demo: $(VENV)/.synced
	$(VENV)/bin/dropletbook-demo

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check shared services tests bench
	$(VENV)/bin/ruff format --check shared services tests bench
	$(VENV)/bin/mypy

# Tests run in parallel (pytest-xdist), a test file to a worker so that its module's servers
# start once. Much of a test's time is waiting (servers starting, browsers, deliberate
# sleeps), so more workers than CPUs pay; TEST_WORKERS=0 runs them in this one process.
# Files go out in collection order, where tests/conftest.py puts the slow `e2e` files first
# (xdist's default would hand out the files with the fewest tests, those, last).
TEST_WORKERS ?= 4
PYTEST := $(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

test-sqlite: $(VENV)/.synced
	$(PYTEST) --db sqlite --ignore=tests/compose

test-postgres: $(VENV)/.synced  # only the tests that use the database: the rest ran above
	$(PYTEST) --db "$(PG_TEST_URL)" --db-tests-only --ignore=tests/compose

# `docker compose up --build` for real, alone (it publishes compose.yaml's fixed ports): on the
# machine's Docker, else on the private engine of $(DOCKER_LOCAL); without either the test
# reports that it could not run, and why (tests/compose/engine.sh).
test-compose: $(VENV)/.synced e2e-deps
	DOCKER_LOCAL="$(DOCKER_LOCAL)" bash tests/compose/engine.sh $(VENV)/bin/pytest tests/compose

# Every pass runs even when an earlier one fails, and the end says which failed.
TEST_PASSES := test-sqlite test-postgres test-compose
test: e2e-deps lint
	@failed=""; for pass in $(TEST_PASSES); do \
	  $(MAKE) --no-print-directory $$pass || failed="$$failed $$pass"; \
	done; \
	if [ -n "$$failed" ]; then echo "make test: failed:$$failed"; exit 1; fi; \
	echo "make test: $(TEST_PASSES) passed"

e2e-deps:  # Debian's Chromium for the browser tests (Playwright never downloads a browser); Node for openid-client; wrk and pgbench for the benchmark's smoke test
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm; }
	@command -v wrk >/dev/null && command -v pgbench >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk postgresql-client; }

bench: $(VENV)/.synced
	$(VENV)/bin/python bench/token_endpoint.py

clean:
	rm -rf $(VENV) .tools data
