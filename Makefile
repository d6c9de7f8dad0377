# The README's two commands are `make run` and `make test`; everything else is optional.
# Needs only Python 3.11: uv is installed with pip when it is missing.

PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := $(PYTHON) -m uv
endif
export UV_PYTHON_DOWNLOADS := never

.PHONY: install run test bench lint sample clean

install: .venv/.synced

.venv/.synced: pyproject.toml uv.lock libs/*/pyproject.toml services/*/pyproject.toml
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv || $(PYTHON) -m pip install --quiet --user uv
	$(UV) sync --frozen --python "$$($(PYTHON) -c 'import sys; print(sys.executable)')"
	@touch $@

run: install          ## start everything (embedded NATS and PostgreSQL unless NATS_URL / DATABASE_URL are set)
	$(UV) run tally up

test: install         ## all tests, on real NATS and PostgreSQL (embedded when none are configured)
	$(UV) run pytest

bench: install        ## question latency and throughput beside the raw floor; ingest throughput; dashboard latency
	$(UV) run python scripts/bench.py
	$(UV) run python scripts/bench_ingest.py
	$(UV) run python scripts/bench_dashboard.py

lint: install         ## ruff (lint and format) and mypy --strict on every package's source
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy libs/common/src libs/cli/src services/*/src

sample:               ## regenerate data/videos.json.gz (deterministic)
	$(UV) run python scripts/generate_sample.py

clean:
	rm -rf .venv .tally .pytest_cache
