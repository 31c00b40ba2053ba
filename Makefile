# Two commands do all set-up on a fresh machine: `make run` and `make test`.
# Django 6 needs Python 3.12+; use the first one found (override with `make PYTHON=/path/to/python3.13 ...`).
PYTHON ?= $(shell for p in python3.13 python3.12 $$HOME/.pyenv/versions/3.13*/bin/python3 \
	$$HOME/.pyenv/versions/3.12*/bin/python3 /usr/local/bin/python3 /usr/bin/python3; do \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo "$$p"; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
# The suite runs in a shuffled order (pytest-randomly) that this seed fixes, so a failure is reproducible;
# `make test TEST_SEED=default` draws a new order (the seed is printed at the top of the run).
TEST_SEED ?= 20261202

LOCALE_MO := locale/en/LC_MESSAGES/django.mo

.PHONY: messages demo run dev test lint typecheck pytest pytest-pg mutation bench bench-rollup bench-load bench-rush bench-archive clean secret-key

$(BIN)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "需要 Python 3.12 或更高版本 (Django 6)。请安装后重试，或用 make PYTHON=... 指定。"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# With DEBUG off (the default) the settings refuse to load without a strong SECRET_KEY: unless
# SONGNUAN_SECRET_KEY is set, generate one once into var/secret_key (mode 0600, gitignored).
secret-key: $(BIN)/.installed
	@$(BIN)/python -m songnuan.config.secret_key

# The English catalogue, compiled with GNU gettext's msgfmt (the .mo is built, never committed).
$(LOCALE_MO): locale/en/LC_MESSAGES/django.po
	@command -v msgfmt >/dev/null || { echo "需要 GNU gettext 的 msgfmt（Debian/Ubuntu：apt-get install gettext）"; exit 1; }
	msgfmt --check -o $@ $<

# Refresh the catalogue after adding or changing a Chinese text, then translate the new msgids.
messages: secret-key
	cd src && ../$(BIN)/python -m django makemessages -l en --settings=songnuan.config.settings --add-location=file --no-obsolete
	msgfmt --check --statistics -o /dev/null locale/en/LC_MESSAGES/django.po

# The database migrated and the demo city loaded: what `make run` and `make dev` both start from.
demo: secret-key $(LOCALE_MO)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py check
	$(BIN)/python manage.py seed_demo

define served_at
	@echo
	@echo "  送温暖 songnuan  →  http://$(HOST):$(PORT)/login/   （演示账号见上，密码 songnuan-demo）"
	@echo "  统计表与上传检查（无需登录）： http://$(HOST):$(PORT)/forms/"
	@echo
endef

# Served as in production: gunicorn, one sync worker per core (static files by WhiteNoise, from the app), and
# the task worker beside it (imports run there); stopping one (Ctrl+C) stops both.
run: demo
	$(served_at)
	@trap 'kill 0' EXIT INT TERM; \
	$(BIN)/python manage.py db_worker --no-reload & \
	$(BIN)/gunicorn songnuan.config.wsgi --bind $(HOST):$(PORT) --workers $(WORKERS) \
		--timeout 120 --graceful-timeout 10 --access-logfile - --error-logfile -

# For development: Django's runserver, which reloads on every change, and the task worker (reloading too).
dev: demo
	$(served_at)
	@trap 'kill 0' EXIT INT TERM; \
	$(BIN)/python manage.py db_worker --reload & \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests bench mutation
	$(BIN)/ruff format --check src tests bench mutation

typecheck: secret-key  # django-stubs loads the settings
	$(BIN)/mypy

pytest: $(BIN)/.installed $(LOCALE_MO)
	$(BIN)/pytest --randomly-seed=$(TEST_SEED)

# The same suite on PostgreSQL (the machine provides it at 127.0.0.1:5432, database `test`).
pytest-pg: $(BIN)/.installed $(LOCALE_MO)
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -m "not sqlite_only" --randomly-seed=$(TEST_SEED)

test: lint typecheck pytest
	@if [ "$$CI" = "true" ] || [ -n "$$WITH_POSTGRES" ]; then $(MAKE) --no-print-directory pytest-pg; \
	else echo "(PostgreSQL run skipped: set CI=true or WITH_POSTGRES=1)"; fi

# Mutation testing of the rule engine, the parsers, the ID checks and the permission module (≈ 6 minutes; not
# part of `make test`). Scores and how to read them: TESTING.md. One module: `make mutation MODULES=engine`.
MODULES ?=
mutation: secret-key
	$(BIN)/python -m mutation.run $(MODULES)

# Benchmarks (not tests): figures and how to read them in BENCHMARKS.md.
bench: secret-key
	$(BIN)/python bench/bench_check.py

bench-rollup: secret-key
	$(BIN)/python bench/bench_rollup.py --db both

bench-load: secret-key
	$(BIN)/python bench/bench_entry_load.py --db sqlite

# 300 reporters log in, autosave 20 times and submit against gunicorn + PostgreSQL (≈ 5 minutes).
bench-rush: secret-key
	$(BIN)/python bench/bench_deadline_rush.py --db postgres

# A million generated households: import against a raw bulk insert, memory, search p95 (≈ 20 minutes).
bench-archive: secret-key
	$(BIN)/python bench/bench_archive.py --n 1000000 --database both

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info var/mutation
