# Entry points of the Sparkify pipeline. Everything installs into .venv from requirements.txt.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
DEMO_LAKE := .lakes/demo
LAKE ?= $(DEMO_LAKE)
START ?= 2018-11-01
END ?= 2018-11-30

PORT ?= 8080
EXECUTOR ?= local
WORKERS ?= 2

.PHONY: install demo run review suggest backtest promote airflow airflow-env notebook system-packages test test-fast bench lint format warehouse-start warehouse-stop generate clean

# requirements.txt pins the whole dependency closure, so nothing needs resolving (--no-deps).
# uv (from PyPI, into the venv) installs it in seconds; pip installs it where uv cannot.
# Byte-compiling afterwards on every core is faster than a one-file-at-a-time compile (without it,
# make demo took 42 s longer: each process compiled what it imported); packages' test folders and
# the installers are left out (never imported when the pipeline runs; 23 s -> 18 s).
UV_VERSION := 0.13.9
PIP_INSTALL = $(BIN)/pip install --quiet --disable-pip-version-check --no-deps
# The installed closure's requirements are checked with uv (a tenth of a second; pip check takes 3 s).
CHECK = { $(BIN)/uv pip check --quiet --python $(PY) 2>/dev/null || $(BIN)/pip check; }
INSTALL = { $(BIN)/uv pip install --quiet --python $(PY) --no-deps $(1) \
	|| { echo "make: uv could not install $(1); installing with pip" >&2; $(PIP_INSTALL) $(1); }; }

$(BIN)/.installed: requirements.txt pyproject.toml plugins/sparkify/quality/gx/offline.py
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) uv==$(UV_VERSION) || echo "make: no uv; pip installs the requirements" >&2
	$(call INSTALL,-r requirements.txt)
	$(call INSTALL,-e .)
	$(CHECK) >&2
	$(BIN)/python -m sparkify.quality.gx.offline >&2
	-$(BIN)/python -m compileall -q -j 0 -x '/(tests|testing|pip|setuptools)/' $(VENV)/lib > /dev/null 2>&1
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed requirements-test.txt
	$(call INSTALL,-r requirements-test.txt)
	$(CHECK)
	touch $@

$(BIN)/.installed-celery: $(BIN)/.installed requirements-celery.txt
	$(call INSTALL,-r requirements-celery.txt)
	$(CHECK)
	touch $@

install: $(BIN)/.installed

$(DEMO_LAKE)/log_json_path.json: | $(BIN)/.installed
	$(PY) -m sparkify.local.cli generate --out $(DEMO_LAKE) --seed 7 --songs 200 --users 60 --days 30 --events 300 --start 2018-11-01

demo: $(BIN)/.installed $(DEMO_LAKE)/log_json_path.json
	@start=$$(date +%s); \
	$(PY) -m sparkify.local.cli run --lake $(DEMO_LAKE) --start 2018-11-01 --end 2018-11-30 --fresh --stop-warehouse; \
	status=$$?; echo "make demo: $$(( $$(date +%s) - start ))s for the DAG runs (the embedded warehouse is stopped)"; exit $$status

run: $(BIN)/.installed
	$(PY) -m sparkify.local.cli run --lake "$(LAKE)" --start $(START) --end $(END) $(if $(filter 1,$(FRESH)),--fresh,) $(if $(JOBS),--jobs $(JOBS),) $(if $(LINEAGE),--lineage $(LINEAGE),)

# A day held for review (a failed review-severity check) decided without the UI: publish its kept
# audit copies, or hold it; the reason and who decided (BY, default the OS user) are recorded.
review: $(BIN)/.installed
	@test -n "$(DAY)" -a -n "$(DECISION)" || { echo 'make review DAY=<day> DECISION=publish|hold REASON="..." [BY=<name>]'; exit 2; }
	$(PY) -m sparkify.local.cli review --day "$(DAY)" --decision "$(DECISION)" --reason "$(REASON)" $(if $(BY),--by "$(BY)",) $(if $(LINEAGE),--lineage $(LINEAGE),)

# Authoring from the stored daily profiles (docs/data-quality.md, "Authoring from evidence"):
# a draft suite for TABLE, what SUITE would have said on the last DAYS days, and the reviewed
# draft merged into the committed suite INTO (default: its table's) or a new one.
DAYS ?= 30
suggest: $(BIN)/.installed
	@test -n "$(TABLE)" || { echo "make suggest TABLE=<table> [DAYS=30] [OUT=<file>]"; exit 2; }
	$(PY) -m sparkify.local.cli suggest --table "$(TABLE)" --days $(DAYS) $(if $(OUT),--out "$(OUT)",)

backtest: $(BIN)/.installed
	@test -n "$(SUITE)" || { echo "make backtest SUITE=<file or committed suite> [DAYS=30] [JSON=<file>]"; exit 2; }
	$(PY) -m sparkify.local.cli backtest --suite "$(SUITE)" --days $(DAYS) $(if $(JSON),--json "$(JSON)",)

promote: $(BIN)/.installed
	@test -n "$(SUITE)" || { echo "make promote SUITE=<draft> [INTO=<suite>] [CRITICAL='1 3'] [REPLACE='2'] [DROP='<id or label>'] [YES=1]"; exit 2; }
	$(PY) -m sparkify.local.cli promote --suite "$(SUITE)" $(if $(INTO),--into "$(INTO)",) --critical "$(CRITICAL)" --replace "$(REPLACE)" --drop "$(DROP)" $(if $(filter 1,$(YES)),--yes,)

# The Airflow UI on localhost:$(PORT) over LAKE (default: the generated demo lake); Ctrl-C stops it.
# EXECUTOR=celery WORKERS=N: the distributed shape (Redis broker, metadata DB on PostgreSQL, N
# Celery workers each started from its own copy of the project).
airflow: $(BIN)/.installed $(DEMO_LAKE)/log_json_path.json $(if $(filter celery,$(EXECUTOR)),$(BIN)/.installed-celery system-packages)
	$(PY) -m sparkify.local.cli airflow --lake "$(LAKE)" --port $(PORT) --executor $(EXECUTOR) --workers $(WORKERS) $(if $(LINEAGE),--lineage $(LINEAGE),)

# Shell exports for the project's Airflow: `eval "$$(make -s airflow-env)"`, then any `airflow ...`
# command of the README works from this folder (home .airflow/, the venv's airflow, DB migrated).
airflow-env: $(BIN)/.installed
	@$(PY) -m sparkify.local.cli airflow-env

# JupyterLab on the project's venv (kernel with the pipeline's packages) for gx/notebooks/; its
# closure is pinned in requirements-notebook.txt. As root (containers, CI) it needs --allow-root.
$(BIN)/.installed-jupyter: $(BIN)/.installed-test requirements-notebook.txt
	$(call INSTALL,-r requirements-notebook.txt)
	$(CHECK)
	touch $@

NOTEBOOK_PORT ?= 8888
notebook: $(BIN)/.installed-jupyter
	$(BIN)/jupyter lab --no-browser --port $(NOTEBOOK_PORT) --notebook-dir=gx/notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

# System packages from Debian for the tests: chromium (browser tests drive it; Playwright's own
# browser download is not used), postgresql-15 (the oldest major of the warehouse matrix; 16-18
# come from wheels) and redis-server (the Celery broker of make airflow EXECUTOR=celery). Installed with apt when missing, as root or with password-less sudo;
# otherwise the tests that need them are skipped with that reason.
APT_PACKAGES := chromium chromium-driver postgresql-15 redis-server
system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "make: cannot install$$missing (not root, no password-less sudo): their tests will be skipped"; exit 0; fi; \
	echo "make: installing Debian's$$missing for the tests"; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null 2>&1 \
	|| { $$sudo apt-get update -qq >/dev/null 2>&1 && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null 2>&1; } \
	|| echo "make: apt-get could not install$$missing: their tests will be skipped"

# Every tier, on TEST_WORKERS pytest-xdist workers, each with its own servers, Airflow home and
# ports (four keep both cores busy while some wait on servers); a test file stays on one worker
# (its module fixtures are built once), heaviest first.
TEST_WORKERS ?= 4
test: $(BIN)/.installed-test $(BIN)/.installed-celery $(BIN)/.installed-jupyter system-packages
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=15 tests

# Unit and DAG tests only: no server, no DAG run, seconds.
test-fast: $(BIN)/.installed-test
	$(BIN)/lint-imports --no-cache > /dev/null || $(BIN)/lint-imports --no-cache
	$(PY) -m pytest -q -m "unit or dags" tests

# The scale benchmark (generates and caches a 10 x 1M-event lake under .lakes/ first): build/bench.json.
# It needs moto (the S3 staging step's local S3 server), pinned with the test tools, and for the
# scheduler step's CeleryExecutor the Celery provider and Debian's redis-server.
bench: $(BIN)/.installed-test $(BIN)/.installed-celery system-packages
	$(PY) -m sparkify.local.bench $(ARGS)

# SQL that runs on both dialects (the rest sits under sql/postgres/ and sql/redshift/, each
# linted with its own dialect by the .sqlfluff files); the shared files are linted as Redshift too.
# mypy types the Celery executor code (sparkify.warm) against the installed Celery provider.
SHARED_SQL := sql/load sql/staging sql/publish.sql sql/run_context.sql sql/store_result.sql sql/views.sql
lint: $(BIN)/.installed-test $(BIN)/.installed-celery
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/sqlfluff lint sql && $(BIN)/sqlfluff lint --dialect redshift $(SHARED_SQL)

format: $(BIN)/.installed-test
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

generate: $(BIN)/.installed
	$(PY) -m sparkify.local.cli generate --out $(OUT) $(ARGS)

warehouse-start: $(BIN)/.installed
	$(PY) -m sparkify.local.cli warehouse start

warehouse-stop: $(BIN)/.installed
	$(PY) -m sparkify.local.cli warehouse stop

clean:
	-$(PY) -m sparkify.local.cli warehouse stop
	rm -rf build .airflow .lakes .warehouse gx/uncommitted
