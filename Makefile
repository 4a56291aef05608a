# Chatout — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install db demo lint format clean

$(BIN)/activate: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(BIN)/activate

install: $(BIN)/activate

db: install
	$(FLASK) init-db

demo: db
	$(FLASK) seed-demo --if-empty
	$(FLASK) ensure-owner --base-url http://$(HOST):$(PORT)

## Serve the shop at http://$(HOST):$(PORT) (127.0.0.1:5000 unless HOST or PORT say otherwise) with a queue worker
## beside it (SQLite in instance/, no accounts needed). The trap stops the worker once, when the server stops: a
## `trap 'kill 0'` would signal its own shell, re-enter itself and end in a segmentation fault.
run: demo
	@$(FLASK) worker --workers 2 & worker=$$!; \
	trap 'trap - INT TERM EXIT; kill $$worker 2>/dev/null' INT TERM EXIT; \
	$(FLASK) run --host $(HOST) --port $(PORT)

## The whole test suite (set DATABASE_URL to run it on PostgreSQL), one test worker per core (TEST_WORKERS=0 runs
## it in one process). Each file stays on one worker: files that share an outside resource (a Redis database) run in turn.
TEST_WORKERS ?= auto
test: install
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

## Benchmarks of the real stack (gunicorn, PostgreSQL and Redis on 127.0.0.1, the queue worker, wrk); see docs/performance.md.
.PHONY: bench bench-smoke bench-inbox
bench: install
	$(BIN)/python -m bench.run

## Every benchmark scenario for a moment at tiny scale (CI): fails on errors only, never on a missed target.
bench-smoke: install
	$(BIN)/python -m bench.run --smoke

## The inbox with 100,000 conversations, in-process (SQLite; DATABASE_URL=…/chatout_bench_inbox for PostgreSQL).
bench-inbox: install
	$(BIN)/python -m bench.inbox
