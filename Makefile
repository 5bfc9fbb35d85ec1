# Two commands set up everything: `make run` and `make test` (each installs first).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

PORT ?= 8080

run: install
	$(PY) -m tests.ispsim.devstack --port $(PORT)

test: install
	$(PY) -m pytest

bench: install
	$(PY) -m tests.bench

lint: install
	$(VENV)/bin/ruff check shared functions tests
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache *.egg-info
