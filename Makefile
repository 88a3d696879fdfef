# CloudMeet: `make run` serves on SQLite with no configuration; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test bench demo lint clean translations

install: $(STAMP)

$(STAMP): requirements.txt requirements-test.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	touch $(STAMP)

run: install
	$(BIN)/python main.py migrate
	$(BIN)/python main.py

demo: install
	$(BIN)/python main.py demo

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m tests.bench.bench_slots
	$(BIN)/python -m tests.bench.bench_api
	$(BIN)/python -m tests.bench.bench_pages
	$(BIN)/python -m tests.bench.bench_read_path
	$(BIN)/python -m tests.bench.bench_outbox
	$(BIN)/python -m tests.bench.bench_calendars
	$(BIN)/python -m tests.bench.bench_caldav
	$(BIN)/python -m tests.bench.bench_growth
	$(BIN)/python -m tests.bench.bench_burst
	$(BIN)/python -m tests.bench.bench_scale_out
	$(BIN)/python -m tests.bench.bench_teams
	$(BIN)/python -m tests.bench.bench_webhooks

# Refresh the message template from the code and merge it into every language's catalog (then translate the new
# empty entries in locales/<lang>/LC_MESSAGES/messages.po).
translations: install
	$(BIN)/pybabel extract -F babel.cfg -o locales/messages.pot --no-location --sort-by-file --project=CloudMeet \
		--copyright-holder="CloudMeet contributors" .
	$(BIN)/pybabel update -i locales/messages.pot -d locales --no-fuzzy-matching --ignore-obsolete

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache screenshots
