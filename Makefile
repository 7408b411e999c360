# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
LOCAL_MYSQL_URL := mysql://root@127.0.0.1:3306/test
# A MariaDB answering at 127.0.0.1:3306 as root without a password (as CI's does): `make test`
# runs the MySQL cases on it. Probed once, and only by the targets that use it.
MARIADB_PROBE = $(eval MARIADB_PROBE := $(shell \
	if command -v mariadb >/dev/null 2>&1; then \
	  mariadb --connect-timeout=2 -h 127.0.0.1 -P 3306 -u root -e 'SELECT 1' >/dev/null 2>&1 && echo yes; \
	else \
	  $(PYTHON) -c "import socket; s = socket.create_connection(('127.0.0.1', 3306), 2); s.settimeout(2); \
	    assert s.recv(5)[4:5] == bytes([10])" >/dev/null 2>&1 && echo yes; \
	fi))$(MARIADB_PROBE)
# TEST_MYSQL_URL only enables the MySQL-specific cases; the main database stays SQLite.
# `make test TEST_MYSQL_URL=` leaves them out.
TEST_MYSQL_URL ?= $(if $(MARIADB_PROBE),$(LOCAL_MYSQL_URL))
# MySQL/MariaDB runs need mysqlclient (system packages: libmariadb-dev pkg-config)
MYSQL_EXTRA = $(if $(or $(findstring mysql,$(DATABASE_URL)),$(TEST_MYSQL_URL),$(CI)),mysql,)
# Found here rather than asked for: a mysqlclient that cannot be installed skips, not fails.
MYSQL_FOUND = $(filter file,$(origin TEST_MYSQL_URL))

.PHONY: run test test-fast test-mysql manage bench lint install install-dev clean settings-docs licences errors-docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[main-api,media-vm]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
	@$(FONTS_INSTALL)
install-dev: $(VENV)/.installed-dev
	@$(FONTS_INSTALL)
	$(if $(MYSQL_EXTRA),@$(MYSQL_EXTRA_INSTALL))

# DejaVu Sans Bold draws the artwork watermark (media_vm/imaging/watermark.py): installed with apt where missing
define FONTS_INSTALL
fc-list 2>/dev/null | grep -q 'DejaVuSans-Bold' || \
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fontconfig fonts-dejavu-core >/dev/null) || \
  echo "fonts-dejavu-core could not be installed: the artwork watermark falls back to another font"
endef

# mysqlclient builds against libmariadb-dev, found by pkg-config: installed with apt where missing
define MYSQL_EXTRA_INSTALL
$(BIN)/python -c 'import MySQLdb' 2>/dev/null || { \
  { pkg-config --exists libmariadb 2>/dev/null || pkg-config --exists mysqlclient 2>/dev/null || \
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libmariadb-dev pkg-config >/dev/null; } || \
    echo "libmariadb-dev and pkg-config could not be installed (mysqlclient builds against them)"; }; \
  $(BIN)/python -m pip install --quiet -e '.[mysql]' $(if $(MYSQL_FOUND),|| echo "mysqlclient could not be installed: the MySQL cases will be skipped"); }
endef

manage: install ## a management command with make run's settings: make manage ARGS=createsuperuser
	$(BIN)/python deploy/dev_run.py manage $(ARGS)

run: install ## the whole system on :8000 and :3001, SQLite under var/
	$(BIN)/python deploy/dev_run.py

# The tiers (tests/conftest.py): unit and in-process tests run in two test processes
# (pytest-xdist), the system and browser tiers one test at a time. CI picks tiers per database.
PARALLEL_TIERS ?= unit or in_process
SERIAL_TIERS ?= system or browser
# pytest exits 5 when a selection holds no test. With PYTEST_ARGS narrowing the run outside CI
# (a path with no test of those tiers) that is no failure; a whole tier that selects nothing is,
# and under CI always: CI never passes by running nothing.
PYTEST = TEST_MYSQL_URL="$$url" $(BIN)/python -m pytest --ds=tests.settings
PYTEST_OK = rc=$$?; [ $$rc -eq 5 ] && [ -n '$(strip $(PYTEST_ARGS))' ] && [ -z "$$CI" ] || exit $$rc

# Tools the tests use, installed with apt where missing (one apt run for all that are missing);
# each test that needs a missing one says so. A tool is the command the tests run; its package follows.
# RUNLEVEL=1 asks invoke-rc.d to start no service, so that installing nginx does not leave one on port 80
# (the tests start their own, unprivileged).
TEST_TOOL_PACKAGES := tesseract:tesseract-ocr heif-enc:libheif-examples avifenc:libavif-bin avifdec:libavif-bin \
	dwebp:webp jpegtran:libjpeg-turbo-progs /usr/sbin/nginx:nginx
define TEST_TOOLS
@need=; for pair in $(TEST_TOOL_PACKAGES); do \
  tool=$${pair%%:*}; pkg=$${pair#*:}; \
  command -v $$tool >/dev/null 2>&1 || case " $$need " in *" $$pkg "*) ;; *) need="$$need $$pkg";; esac; \
done; \
if [ -n "$$need" ]; then \
  { apt-get update -qq && RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; } \
    || echo "could not install$$need: the tests that need them will say so"; \
fi
endef

# The MySQL cases' server, said in one line; sets $$url for PYTEST
define MYSQL_URL_FOUND
url='$(TEST_MYSQL_URL)'; \
if [ -n "$$url" ] && [ -n "$(MYSQL_FOUND)" ] && ! $(BIN)/python -c 'import MySQLdb' 2>/dev/null; then url=; fi; \
if [ -n "$$url" ]; then echo "MySQL cases on $$url"; else echo "no MariaDB at 127.0.0.1:3306 (or no mysqlclient): the MySQL cases are skipped"; fi
endef

test: install-dev ## the whole suite on SQLite, and the MySQL cases on a MariaDB at 127.0.0.1:3306 if one answers
	$(TEST_TOOLS)
	@{ command -v chromium >/dev/null && command -v chromedriver >/dev/null; } \
		|| (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
		|| echo "chromium and chromium-driver could not be installed: the browser tests will say so"
	@$(MYSQL_URL_FOUND); status=0; \
	if [ -n '$(PARALLEL_TIERS)' ]; then \
	  echo "== tiers: $(PARALLEL_TIERS) (two test processes) =="; \
	  ( $(PYTEST) -n 2 --dist worksteal -m '$(PARALLEL_TIERS)' $(PYTEST_ARGS) || { $(PYTEST_OK); } ) || status=1; \
	fi; \
	if [ -n '$(SERIAL_TIERS)' ]; then \
	  echo "== tiers: $(SERIAL_TIERS) =="; \
	  ( $(PYTEST) -m '$(SERIAL_TIERS)' $(PYTEST_ARGS) || { $(PYTEST_OK); } ) || status=1; \
	fi; \
	exit $$status

test-fast: install-dev ## the unit and in-process tiers only (two test processes): the loop while you work
	$(TEST_TOOLS)
	@$(MYSQL_URL_FOUND); \
	$(PYTEST) -n 2 --dist worksteal -m 'unit or in_process' $(PYTEST_ARGS) || { $(PYTEST_OK); }

test-mysql: ## the suite against the local MariaDB
	$(MAKE) test DATABASE_URL=mysql://root@127.0.0.1:3306/test TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test

bench: install-dev ## the benchmark; prints ratios against references measured in the same run
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null) \
		|| echo "wrk could not be installed: the serving section will say so"
	$(BIN)/python -m bench $(BENCH_ARGS)

settings-docs: install ## the env examples and docs/reference/configuration.md, from the settings' declarations
	$(BIN)/python -m deploy.settings_docs

licences: install-dev ## docs/reference/third-party-licences.md, from the installed distributions of every extra
	@$(MYSQL_EXTRA_INSTALL)
	$(BIN)/python -m deploy.licences

errors-docs: install ## docs/reference/errors.md, from the errors modules of the apps
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-docs} $(BIN)/python -m main_api errors > docs/reference/errors.md

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache
