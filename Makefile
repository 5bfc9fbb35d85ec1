# Two commands set up everything: `make run` and `make test` (each installs first).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# One stamp per extra: `make run` needs the runtime plus [demo], `make test` and `make lint`
# need [dev], which includes [demo] (so a dev install stamps both).
DEMO_STAMP := $(VENV)/.installed-demo
DEV_STAMP  := $(VENV)/.installed-dev
# checkov pins its own fork of python-hcl2 (same module name), so it lives apart.
CKV_VENV ?= .venv-checkov
BUNDLE ?= dist/isphooks-src.zip

.PHONY: install install-dev install-demo run test test-full test-php lint bench soak bundle lock \
	whmcs-module fossbilling-module dist infra-check clean clean-local

install: install-dev
install-dev: $(DEV_STAMP)
install-demo: $(DEMO_STAMP)

$(DEV_STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(DEV_STAMP) $(DEMO_STAMP)

$(DEMO_STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[demo]'
	@touch $(DEMO_STAMP)

PORT ?= 8080

# The webhook secret and the simulator's accounts stay in .local/ across runs.
run: install-demo
	$(PY) -m tests.ispsim.devstack --port $(PORT)

# The WHMCS modules' and the FOSSBilling manager's suites need php-cli, php-curl and phpunit
# (Debian packages).
PHP_INSTALL := apt-get install -y php-cli php-curl phpunit
PHP_READY   := command -v php >/dev/null 2>&1 && command -v phpunit >/dev/null 2>&1 && php -m | grep -qx curl
PHP_SKIPPED := echo "*** SKIPPED, NOT PASSED: the WHMCS module and FOSSBilling manager suites (PHPUnit in tests/whmcs and tests/fossbilling, php-cli end to end in tests/e2e/test_whmcs*.py and test_fossbilling.py): php-cli, php-curl or phpunit missing. Install: $(PHP_INSTALL)"

# The suite's two tiers (tests/tiers.py). `make test`: the fast one, unit, integration and
# e2e at reduced sizes, in the default dialect and one of each family of the others (what it
# leaves to the full tier is deselected and counted in one line at the end). `make test-full`
# (CI, .ci/run): every test at full size, with the coverage of shared/ and functions/ held to
# its floor ([tool.coverage.report] fail_under in pyproject.toml).
# pytest-xdist: the suite waits on sockets, subprocesses and timeouts about as much as it
# computes, so 4 workers beat 2 on a 2-core machine; PYTEST_WORKERS=0 runs it in one process.
# --dist loadgroup keeps the tests of one xdist_group in one worker, in order.
# Bytecode is written (a sandbox may set PYTHONDONTWRITEBYTECODE): each worker and each
# `isphooks serve` the suite starts then reads the modules compiled, and the test modules
# rewritten for assert, from __pycache__ instead of doing it again.
PYTEST_WORKERS ?= 4
PYTEST_XDIST   := -n $(PYTEST_WORKERS) --dist loadgroup
PYTEST_ENV     := PYTHONDONTWRITEBYTECODE=
COVERAGE       := --cov --cov-report=term:skip-covered

test: install test-php
	$(PYTEST_ENV) ISPHOOKS_TEST_TIER=fast $(PY) -m pytest $(PYTEST_XDIST)
	@$(PHP_READY) || $(PHP_SKIPPED)

test-full: install test-php
	$(PYTEST_ENV) ISPHOOKS_TEST_TIER=full $(PY) -m pytest $(PYTEST_XDIST) $(COVERAGE)
	@$(PHP_READY) || $(PHP_SKIPPED)

test-php:
	@if $(PHP_READY); then phpunit --configuration tests/whmcs/phpunit.xml && \
		phpunit --configuration tests/fossbilling/phpunit.xml; else $(PHP_SKIPPED); fi

bench: install
	$(PY) -m tests.bench

soak: install
	ISPHOOKS_SOAK=1 $(PY) -m pytest -s tests/reliability tests/integration/test_order_permutations.py

bundle: install
	$(PY) infra/bundle.py $(BUNDLE)

# The deployed bundle installs from this hashed lock (pip-tools in its own venv).
LOCK_VENV ?= .venv-lock
lock:
	@test -x $(LOCK_VENV)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_VENV) && \
		$(LOCK_VENV)/bin/pip install --quiet --disable-pip-version-check 'pip-tools>=7.4'; }
	$(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links --output-file infra/requirements.lock pyproject.toml

# Release files, each named with isphooks' one version (shared/__init__.py's __version__).
DIST ?= dist
# a folder, which gets isphooks-whmcs-<version>.zip, or the archive's own path (….zip)
WHMCS_ZIP ?= $(DIST)

whmcs-module:
	$(PYTHON) integrations/whmcs/build.py $(WHMCS_ZIP)

# The FOSSBilling server manager: isphooks-fossbilling-<version>.zip (library/Server/Manager/
# Isphooks.php, to unpack into the FOSSBilling root). A folder, or the archive's own path.
FOSSBILLING_ZIP ?= $(DIST)

fossbilling-module:
	$(PYTHON) integrations/fossbilling/build.py $(FOSSBILLING_ZIP)

# The wheel, $(DIST)/isphooks-<version>-py3-none-any.whl (the runtime dependencies only; for
# a venv, the container image or the systemd unit), the WHMCS archive and the FOSSBilling one. build/ goes
# first: setuptools would put a module left there by an older build into the wheel.
dist: whmcs-module fossbilling-module
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	rm -rf build $(DIST)/isphooks-*-py3-none-any.whl
	$(PY) -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir $(DIST) .
	@rm -rf build
	@ls $(DIST)/isphooks-*-py3-none-any.whl

infra-check:
	@if command -v terraform >/dev/null 2>&1; then \
		terraform fmt -check -recursive infra && echo "terraform fmt: ok"; \
	else \
		echo "SKIP terraform fmt -check: no terraform binary on PATH (install Terraform >= 1.5)"; \
	fi
	@test -x $(CKV_VENV)/bin/checkov || { $(PYTHON) -m venv $(CKV_VENV) && \
		$(CKV_VENV)/bin/pip install --quiet --disable-pip-version-check 'checkov>=3.2'; }
	$(CKV_VENV)/bin/checkov -d infra --framework terraform --skip-download --quiet --compact

lint: install
	$(VENV)/bin/ruff check shared functions tests infra/bundle.py
	$(VENV)/bin/ruff format --check shared functions tests infra/bundle.py integrations/whmcs/build.py integrations/fossbilling/build.py
	$(VENV)/bin/mypy

# Forget make run's webhook secret and the simulator's accounts.
clean-local:
	rm -rf .local

clean:
	rm -rf $(VENV) $(CKV_VENV) $(LOCK_VENV) .local dist .pytest_cache .mypy_cache .ruff_cache *.egg-info
