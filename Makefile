# The README's two commands are `make run` and `make test`; everything else is optional.
# Needs only CPython 3.11 or newer. uv is used from the PATH when it is there; otherwise it is
# installed into a private virtual environment of the project (.tally/tools), which PEP 668
# allows on Debian, Ubuntu and Fedora, where `pip install uv` and `pip install --user uv` are
# refused ("externally-managed-environment").

PYTHON ?= python3
TOOLS := .tally/tools
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := $(TOOLS)/bin/uv
endif
export UV_PYTHON_DOWNLOADS := never
# Trust the platform's certificate store, as pip does (so a proxy's own CA works too).
export UV_SYSTEM_CERTS := 1

.DEFAULT_GOAL := help
.PHONY: help install run test test-fast bench lint asyncapi sample clean

help:                 ## this list: each target and what it does
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: .venv/.synced  ## the virtual environment (uv sync of the locked dependencies)

.venv/.synced: pyproject.toml uv.lock libs/*/pyproject.toml services/*/pyproject.toml | $(UV)
	$(UV) sync --frozen --python "$$($(PYTHON) -c 'import sys; print(sys.executable)')"
	@touch $@

$(TOOLS)/bin/uv:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "Tally needs CPython 3.11 or newer; '$(PYTHON)' is not. Run make with PYTHON=python3.12 (or another 3.11+ interpreter)." >&2; \
	  exit 1; }
	@rm -rf $(TOOLS)
	@$(PYTHON) -m venv $(TOOLS) >/dev/null 2>&1 || { rm -rf $(TOOLS); \
	  echo "'$(PYTHON) -m venv' does not work here: install your distribution's venv package (on Debian or Ubuntu: sudo apt install python3-venv), then run make again." >&2; \
	  exit 1; }
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv

run: install          ## start everything (embedded NATS and PostgreSQL unless NATS_URL / DATABASE_URL are set)
	$(UV) run tally up

test: install         ## all tests, on real NATS and PostgreSQL (embedded when none are configured)
	$(UV) run pytest

test-fast: install    ## the unit tier: tests that need no server (seconds, not minutes)
	$(UV) run pytest -m unit -q

bench: install        ## question latency and throughput beside the raw floor; parser worst case; ingest throughput; dashboard latency; gateway CPU per question
	$(UV) run python scripts/bench.py
	$(UV) run python scripts/bench_parser.py
	$(UV) run python scripts/bench_ingest.py
	$(UV) run python scripts/bench_dashboard.py
	$(UV) run python scripts/bench_gateway.py

lint: install         ## ruff (lint and format), mypy --strict on every package's source, import contracts
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy libs/*/src services/*/src
	$(UV) run lint-imports --no-cache

asyncapi: install     ## regenerate docs/asyncapi.json, the AsyncAPI document of the whole bus
	$(UV) run python scripts/asyncapi.py

sample:               ## regenerate data/videos.json.gz (deterministic)
	$(UV) run python scripts/generate_sample.py

clean:                ## remove the virtual environment and the tools
	rm -rf .venv .tally .pytest_cache
