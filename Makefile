# Two commands on a fresh machine: `make run` and `make test`. Both create .venv and install into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck install bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The gateway in sandbox mode on 127.0.0.1:8080 with SQLite and the Stripe + PCI Pal emulators.
# Another port: `make run PORT=8090` or `PORT=8090 make run` or `VOICEPAY_SERVER__PORT=8090 make run`.
PORT ?= $(VOICEPAY_SERVER__PORT)
run: $(STAMP)
	$(BIN)/voicepay serve --sandbox $(if $(PORT),--port $(PORT))

lint: $(STAMP)
	$(BIN)/ruff check gateway adapters redaction tests benchmarks
	$(BIN)/mypy

typecheck: $(STAMP)
	$(BIN)/mypy

# The whole suite (SQLite and PostgreSQL), then lint and types.
test: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadfile
	$(BIN)/ruff check gateway adapters redaction tests benchmarks
	$(BIN)/mypy

# Every benchmark, each printing its figures and ratios against a baseline from the same run (several minutes;
# PostgreSQL on 127.0.0.1:5432 for the webhook and load figures).
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/redaction.py --size-mb 10
	$(BIN)/python benchmarks/round_trips.py
	$(BIN)/python benchmarks/webhooks.py
	$(BIN)/python benchmarks/load.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
