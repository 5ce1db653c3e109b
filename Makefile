# POD developer entry points. Needs only Python 3.11 (`python3`); see README "Quick start".
#   make run                 PostgreSQL + Redis (embedded unless configured), migrate, demo data,
#                            web on http://127.0.0.1:8000, Celery worker and beat; Ctrl-C stops all
#   make test ARGS="-k foo"  the test suite on PostgreSQL; ARGS go to pytest
#   make lint                ruff check, ruff format check, import-linter's layer contracts,
#                            mypy (django-stubs loads the settings: a throwaway SECRET_KEY)
#   make safety              render and judge the safety case from the last `make test` run
#                            (safety/, README "Clinical safety"); fails when a control is unproven

PYTHON ?= python3
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
# The stamp is named after requirements.txt's hash, so any edit to it triggers a reinstall.
REQUIREMENTS_HASH := $(shell $(PYTHON) -c "import hashlib; print(hashlib.sha256(open('requirements.txt', 'rb').read()).hexdigest()[:16])")
STAMP := $(VENV)/.requirements-$(REQUIREMENTS_HASH)

.PHONY: run test lint safety venv

run: venv
	$(VENV_PYTHON) -m pod.devstack run

test: venv
	$(VENV_PYTHON) -m pod.devstack test $(ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	SECRET_KEY=mypy-only-not-a-secret $(VENV)/bin/mypy

safety: venv
	$(VENV_PYTHON) -m pod.safety_case

venv: $(STAMP)

$(STAMP):
	test -x $(VENV_PYTHON) || $(PYTHON) -m venv $(VENV)
	$(VENV_PYTHON) -m pip install --disable-pip-version-check --quiet -r requirements.txt
	rm -f $(VENV)/.requirements-*
	touch $@
