# Two commands for a fresh machine (each sets up everything it needs):
#   make app    create .venv, install, generate the demo data, serve the app
#   make test   create .venv + the BigQuery emulator's and chdb's venvs, lint, type-check,
#               run all tests
PYTHON ?= python3
VENV := .venv
BQ_VENV := .venv-bqemu
CH_VENV := .venv-chdb
BIN := $(VENV)/bin
PORT ?= 8866
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)

.PHONY: app test lint unit bench bench-big setup clean browser

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

# The emulator pins its own duckdb (with the spatial extension it needs, installed
# from PyPI because DuckDB's extension download is offline here), so it gets its own venv.
$(BQ_VENV)/.installed: scripts/setup_bqemulator.sh
	PYTHON=$(PYTHON) bash scripts/setup_bqemulator.sh $(BQ_VENV)
	touch $@

# chdb (ClickHouse's engine, ~0.9 GB) runs the ClickHouse double of ClickPy's database
# (tests/chdouble), so it too gets its own venv.
$(CH_VENV)/.installed: scripts/setup_chdb.sh
	PYTHON=$(PYTHON) bash scripts/setup_chdb.sh $(CH_VENV)
	touch $@

# Debian's Chromium drives the Voilà apps in the browser tests (Playwright's own browser
# download does not work offline).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

app: setup
	$(BIN)/workbench serve 01_investigate.ipynb --port $(PORT)

lint: setup
	$(BIN)/ruff check workbench tests benchmarks
	$(BIN)/ruff format --check workbench tests benchmarks
	$(BIN)/mypy --strict workbench

unit: setup $(BQ_VENV)/.installed $(CH_VENV)/.installed browser
	WORKBENCH_BQEMULATOR=$(CURDIR)/$(BQ_VENV)/bin/bqemulator \
	WORKBENCH_CHDB_PYTHON=$(CURDIR)/$(CH_VENV)/bin/python $(BIN)/python -m pytest

test: lint unit

# The quick set (~15 min on 2 cores); bench-big adds the 100 M- and 1 B-row datasets and the
# screen of a PyPI-sized population (~2.5 h, ~60 GB disk, ~8 GB memory).
bench: setup browser
	$(BIN)/python benchmarks/bench_foundation.py
	$(BIN)/python benchmarks/bench_detection.py
	$(BIN)/python benchmarks/bench_ingest.py --sizes 1M,10M
	$(BIN)/python benchmarks/bench_drilldown.py
	$(BIN)/python benchmarks/bench_cache.py
	$(BIN)/python benchmarks/bench_scan.py --datasets demo,10M
	$(BIN)/python benchmarks/bench_app.py
	$(BIN)/python benchmarks/bench_bqcost.py
	$(BIN)/python benchmarks/bench_realdata.py
	$(BIN)/python benchmarks/bench_screen.py --projects 50000

bench-big: setup
	$(BIN)/python benchmarks/bench_ingest.py --sizes 10M,100M
	$(BIN)/python benchmarks/bench_ingest.py --sizes 1B --engines workbench
	$(BIN)/python benchmarks/bench_screen.py --projects 600000
	$(BIN)/python benchmarks/bench_drilldown.py --dataset 100M
	$(BIN)/python benchmarks/bench_cache.py --dataset 100M
	$(BIN)/python benchmarks/bench_scan.py --datasets 100M

clean:
	rm -rf $(VENV) $(BQ_VENV) $(CH_VENV) .pytest_cache .mypy_cache .ruff_cache
