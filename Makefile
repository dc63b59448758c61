# jupyter-qrt: the README's two commands are `make lab` and `make test`.
# Everything they need is installed from here: a fresh machine needs only python3 and make.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed-stamp
LAB_PORT ?= 8888

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PYTHONDONTWRITEBYTECODE :=

LABEXT := labextension
# npm ci runs again when the lockfile changes (npm writes node_modules/.package-lock.json).
NODE_STAMP := $(LABEXT)/node_modules/.package-lock.json
# The prebuilt extension (git-ignored), rebuilt when a source file changes.
LABEXT_BUILT := jupyter_qrt/labextension/package.json
LABEXT_SOURCES := $(shell find $(LABEXT)/src $(LABEXT)/style $(LABEXT)/schema -type f 2>/dev/null) \
	$(LABEXT)/package.json $(LABEXT)/tsconfig.json
LABEXT_LINK := $(VENV)/.labextension-linked
# npm scripts call `jupyter-builder` (Python, from the venv).
NPM := cd $(LABEXT) && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" npm

.PHONY: help setup lab test lint format contracts typecheck pytest chromium ui-tests bench clean \
	labext lint-ts test-ts check-labext

help:
	@echo "make lab    set everything up and open JupyterLab on notebooks/"
	@echo "make test   set everything up and run every check"
	@echo "make ui-tests  only the browser tests (a real JupyterLab driven in Debian chromium)"
	@echo "make bench  run the benchmarks (prints tables; not part of make test)"

# The venv is rebuilt when pyproject.toml changes. uv installs in seconds; --compile-bytecode
# matters here because these machines set PYTHONDONTWRITEBYTECODE=1 (imports would recompile).
# The labextension is built first (npm ci, then the build with the venv's jupyter-builder), so
# the package's build hook finds it built and skips npm (a plain `pip install .` builds it there).
$(STAMP): pyproject.toml $(NODE_STAMP)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade uv
	$(UV) pip install --python $(PY) --compile-bytecode --quiet 'jupyter-builder>=1.2,<2'
	$(MAKE) --no-print-directory labext
	$(UV) pip install --python $(PY) --compile-bytecode --quiet -e '.[test,dev]'
	rm -f $(LABEXT_LINK)
	touch $(STAMP)

# node and npm come with the machine; the lockfile is committed, so `npm ci`.
$(NODE_STAMP): $(LABEXT)/package.json $(LABEXT)/package-lock.json
	cd $(LABEXT) && npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

$(LABEXT_BUILT): $(NODE_STAMP) $(LABEXT_SOURCES)
	$(NPM) run build:prod
	touch $(LABEXT_BUILT)

labext: $(LABEXT_BUILT)

# An editable install got a copy of the extension as shared-data: link it to the build instead,
# so a rebuild shows up in JupyterLab after a page reload.
$(LABEXT_LINK): $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/jupyter labextension develop --overwrite .
	touch $(LABEXT_LINK)

setup: $(STAMP) $(LABEXT_BUILT) $(LABEXT_LINK)

# `pip install` alone must be enough: JupyterLab lists the prebuilt extension, enabled and OK.
check-labext: setup
	@listing="$$($(VENV)/bin/jupyter labextension list 2>&1 | sed 's/\x1b\[[0-9;]*m//g')"; \
	echo "$$listing"; \
	echo "$$listing" | grep -Eq '^\s+jupyter-qrt v[0-9.]+ enabled\s+OK' \
		|| { echo "make check-labext: jupyter-qrt is not listed enabled and OK"; exit 1; }

lint-ts: setup
	$(NPM) run eslint:check
	$(NPM) run prettier:check
	$(NPM) run typecheck
	$(NPM) run check:api

test-ts: setup
	$(NPM) test

lab: setup
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks --port=$(LAB_PORT) \
		$(if $(filter 0,$(shell id -u)),--allow-root,)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

contracts: setup
	$(VENV)/bin/lint-imports

typecheck: setup
	$(VENV)/bin/mypy

# pytest exits 5 when it collected no test: make treats that as the failure it is.
pytest: setup
	$(PY) -m pytest -p no:cacheprovider

# The browser tests drive Debian's chromium with Playwright (never Playwright's own download).
# Installing it needs root; anyone else is told the one command to run.
CHROMIUM := /usr/bin/chromium

chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "make: $(CHROMIUM) is missing and installing it needs root; run" >&2; \
			echo "  sudo apt-get install -y --no-install-recommends chromium" >&2; \
			echo "then run make again" >&2; \
			exit 1; \
		fi; \
		echo "make: installing Debian chromium for the browser tests"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	fi

# Their own pytest run (ui-tests/pytest.ini): pytest-jupyter and Playwright's event loop do not
# mix in one process. Exit code 5 (nothing collected) fails like any other.
ui-tests: setup chromium
	$(PY) -m pytest ui-tests

test: lint contracts typecheck lint-ts test-ts check-labext pytest ui-tests
	@echo "make test: every check passed"

bench: setup
	$(PY) -m benchmarks all

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
	rm -rf $(LABEXT)/node_modules $(LABEXT)/lib $(LABEXT)/tsconfig.tsbuildinfo jupyter_qrt/labextension
