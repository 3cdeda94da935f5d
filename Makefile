# Set-up, run and test the tracker. `make run` and `make test` do everything on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ASSETS := tracker/static/css/app.css
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install assets database lint typecheck pytest serve clean help \
	system-run system-test

help:
	@echo "make run    set everything up, load plans.yaml and demo data, serve on http://$(HOST):$(PORT)"
	@echo "make test   set everything up and run the linters and the test suite"

# the Debian packages needed (installed as root; otherwise the apt-get line to run is shown)
system-run:
	@scripts/system-packages.sh run

system-test:
	@scripts/system-packages.sh test

$(INSTALLED): pyproject.toml | system-run
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
	@# the scheduler and the pack builder run beside the web server, never inside it;
	@# Ctrl+C stops all three
	@echo "Scheduler and pack builder running beside the web server; their logs:"
	@echo "  instance/scheduler.log, instance/worker.log"
	$(BIN)/tracker scheduler >> instance/scheduler.log 2>&1 & scheduler=$$!; \
	$(BIN)/tracker worker >> instance/worker.log 2>&1 & worker=$$!; \
	trap 'kill $$scheduler $$worker 2>/dev/null; wait $$scheduler $$worker 2>/dev/null' \
		EXIT INT TERM; \
	$(BIN)/tracker serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy plans kpis tracker notifications

pytest: install
	$(BIN)/python -m pytest

test: system-test lint typecheck pytest

clean:
	rm -rf $(VENV) node_modules tracker/static/css tracker/static/js tracker/static/govuk instance *.egg-info
