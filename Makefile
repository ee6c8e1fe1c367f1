# GPB control tower: `make demo` for a first look, `make test` for the whole suite.
# Needs only python3 and GNU make; everything else goes into .venv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: test demo lint fmt bench clean

# The virtualenv is rebuilt only when a requirements file changes.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -r requirements-dev.txt
	touch $@

$(VENV): $(VENV)/.installed

# The whole suite; DATABASE_URL from the environment picks the database (SQLite when unset).
test: $(VENV)/.installed
	$(BIN)/pytest $(PYTEST_ARGS)

# Migrate, serve and import the simulated district, print a demo login, serve the admin
# at http://127.0.0.1:8000/admin/ with a task worker, until Ctrl-C.
demo: $(VENV)/.installed
	DEBUG=1 $(BIN)/python manage.py demo

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(VENV)/.installed
	$(BIN)/ruff check --fix-only .
	$(BIN)/ruff format .

bench: $(VENV)/.installed
	$(BIN)/python bench/import_bench.py

# Removes the virtualenv and caches; never the database (db.sqlite3) or .env.
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
