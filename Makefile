# Two commands do all set-up on a fresh machine (Terraform >= 1.5, Python >= 3.11):
#   make demo   the whole stack applied to a local emulator, and shown
#   make test   every test
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV ?= .venv
CHECKOV_VENV ?= .venv-checkov
PY := $(VENV)/bin/python
DEPS := lambda/pyproject.toml

# The package's other supported Pythons that the unit tests run on too (see test-pythons).
PYTHONS ?= 3.12 3.13

.PHONY: help setup test test-pythons demo package lock bench lint docs clean

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(VENV)/.installed: $(DEPS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=25.1"
	$(PY) -m pip install --quiet -e lambda --group $(DEPS):dev
	@touch $@

# checkov pins versions that conflict with the dev tools, so it gets its own environment.
$(CHECKOV_VENV)/.installed: $(DEPS)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade "pip>=25.1"
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --group $(DEPS):checkov
	@touch $@

setup: $(VENV)/.installed $(CHECKOV_VENV)/.installed ## Create the virtual environments.

test: setup test-pythons ## Run every test (unit on every Python, Terraform plan/apply on the emulator, checkov, lint).
	CHECKOV=$(abspath $(CHECKOV_VENV))/bin/checkov $(PY) -m pytest tests $(PYTEST_ARGS)

test-pythons: $(VENV)/.installed ## Run the unit tests on each of PYTHONS too (default 3.12 3.13), each in $(VENV)-<version>.
	$(PY) lambda/tools/pythons.py --venv-prefix $(abspath $(VENV)) $(PYTHONS)

demo: $(VENV)/.installed ## Apply the whole stack to a local emulator and show it (KEEP=1 leaves it up).
	$(PY) lambda/tools/demo.py $(if $(KEEP),--keep)

package: $(VENV)/.installed ## Build the reproducible zip build/lambda.zip (PACKAGE_ARGS="--without-sdk", "--source DIR"...).
	$(PY) lambda/tools/package.py $(PACKAGE_ARGS)

lock: $(VENV)/.installed ## Re-resolve lambda/requirements.lock from the package's dependencies.
	$(PY) lambda/tools/lock.py

bench: $(VENV)/.installed ## Benchmark against Powertools: per event, per batch, write units, cold import (BENCH_ARGS=--only wcu).
	$(PY) lambda/tools/bench.py $(BENCH_ARGS)

lint: $(VENV)/.installed ## ruff and mypy only.
	$(PY) -m ruff check --config $(DEPS) lambda/src lambda/tools tests
	$(PY) -m ruff format --check --config $(DEPS) lambda/src lambda/tools tests
	$(PY) -m mypy --config-file $(DEPS) lambda/src/lambda_dedup lambda/tools tests
	# examples/own-function is a team's project: its own settings, in its pyproject.toml.
	$(PY) -m ruff check examples/own-function
	$(PY) -m ruff format --check examples/own-function
	cd examples/own-function && $(abspath $(PY)) -m mypy src tests

docs: $(VENV)/.installed ## Regenerate the inputs/outputs tables of the Terraform READMEs.
	$(PY) lambda/tools/tfdocs.py

clean: ## Remove build output and virtual environments.
	rm -rf build $(VENV) $(VENV)-3.* $(CHECKOV_VENV) .mypy_cache .ruff_cache tests/.pytest_cache
