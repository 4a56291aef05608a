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
	$(FLASK) ensure-owner

## Serve the shop at http://127.0.0.1:5000 with a queue worker beside it (SQLite in instance/, no accounts needed).
run: demo
	@trap 'kill 0' INT TERM EXIT; \
	$(FLASK) worker --workers 2 & \
	$(FLASK) run --host $(HOST) --port $(PORT)

## The whole test suite (set DATABASE_URL to run it on PostgreSQL).
test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

## Benchmarks of the real stack (gunicorn, PostgreSQL and Redis on 127.0.0.1, the queue worker, wrk); see docs/performance.md.
.PHONY: bench bench-smoke
bench: install
	$(BIN)/python -m bench.run

## Every benchmark scenario for a moment at tiny scale (CI): fails on errors only, never on a missed target.
bench-smoke: install
	$(BIN)/python -m bench.run --smoke
