# The two set-up commands of the README: `make run` and `make test`. Both create .venv if missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench package package-test clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet -e '.[dev,plot,cluster]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/scythe

test: $(STAMP)
	scripts/ensure-system-deps.sh
	$(VENV)/bin/ruff check scythe_desktop tests scripts benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

bench: $(STAMP)
	$(VENV)/bin/scythe bench codec
	$(VENV)/bin/scythe bench render

# Not a set-up command: builds dist/scythe/ and dist/scythe-<version>-linux-x86_64.tar.gz (README "Building the
# installer"); VARIANT=field builds the torch-free field-laptop bundle under dist/field/ instead.
VARIANT ?= full
package: $(STAMP)
	@$(PY) -c 'import PyInstaller' 2>/dev/null || $(PY) -m pip install --quiet -e '.[package]'
	packaging/build.sh $(VENV) $(VARIANT)

# Builds both bundles, then runs each air-gapped (network namespace with loopback only) under strace.
package-test: $(STAMP)
	scripts/ensure-system-deps.sh
	$(MAKE) package VARIANT=full
	packaging/smoke_test.sh dist/scythe/scythe
	$(MAKE) package VARIANT=field
	packaging/smoke_test.sh dist/field/scythe/scythe

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache
