# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# MySQL/MariaDB runs need mysqlclient (system headers: libmariadb-dev pkg-config)
MYSQL_EXTRA := $(if $(or $(findstring mysql,$(DATABASE_URL)),$(TEST_MYSQL_URL),$(CI)),mysql,)

.PHONY: run test test-mysql bench lint install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[main-api,media-vm]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev$(if $(MYSQL_EXTRA),$(comma)$(MYSQL_EXTRA))]'
	touch $@

comma := ,
install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install ## the whole system on :8000 and :3001, SQLite under var/
	$(BIN)/python deploy/dev_run.py

test: install-dev ## the whole suite (DATABASE_URL=mysql://... for MySQL/MariaDB)
	@command -v tesseract >/dev/null || (apt-get update -qq && apt-get install -y -qq tesseract-ocr >/dev/null) \
		|| echo "tesseract-ocr could not be installed: the OCR tests will say so"
	@command -v heif-enc >/dev/null || (apt-get update -qq && apt-get install -y -qq libheif-examples >/dev/null) \
		|| echo "libheif-examples could not be installed: the HEIC tests will say so"
	$(if $(MYSQL_EXTRA),$(BIN)/python -m pip install --quiet -e '.[mysql]',)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-mysql: ## the suite against the local MariaDB
	$(MAKE) test DATABASE_URL=mysql://root@127.0.0.1:3306/test TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test

bench: install-dev ## the benchmark; prints ratios against references measured in the same run
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null) \
		|| echo "wrk could not be installed: the serving section will say so"
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache
