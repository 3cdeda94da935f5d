# Set-up, run and test the tracker. `make run` and `make test` do everything on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ASSETS := tracker/static/css/app.css
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install assets database lint typecheck pytest serve clean help

help:
	@echo "make run    set everything up, load plans.yaml and demo data, serve on http://$(HOST):$(PORT)"
	@echo "make test   set everything up and run the linters and the test suite"

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' 2>&1 | grep -v '^WARNING: Location' || true
	$(BIN)/python -c "import tracker, plans, flask, sqlalchemy, pytest"
	touch $@

$(ASSETS): package.json package-lock.json $(wildcard assets/scss/*.scss assets/js/*.js) scripts/build-assets.sh
	scripts/build-assets.sh

install: $(INSTALLED) $(ASSETS)

database: install
	$(BIN)/tracker db upgrade
	$(BIN)/tracker plan load plans.yaml
	$(BIN)/tracker demo

run: database
	$(BIN)/tracker jobs run reminders
	$(BIN)/tracker jobs run escalations
	@# the scheduler runs beside the web server, never inside it; Ctrl+C stops both
	@echo "Scheduler running beside the web server; its log: instance/scheduler.log"
	$(BIN)/tracker scheduler >> instance/scheduler.log 2>&1 & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null; wait $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(BIN)/tracker serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy plans kpis

pytest: install
	$(BIN)/python -m pytest

test: lint typecheck pytest

clean:
	rm -rf $(VENV) node_modules tracker/static/css tracker/static/js tracker/static/govuk instance *.egg-info
