# The two set-up commands of the README: `make run` and `make test`. Both create .venv if missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench package clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/scythe

test: $(STAMP)
	scripts/ensure-system-deps.sh
	$(VENV)/bin/ruff check scythe_desktop tests scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

bench: $(STAMP)
	$(VENV)/bin/scythe bench codec
	$(VENV)/bin/scythe bench render

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache
