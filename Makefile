# The two set-up commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

# pip without -q: the first install takes a few minutes and shows each package as it goes.
$(VENV)/.installed: pyproject.toml
	@echo "==> 1/3 creating $(VENV) (first run only)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> 2/3 updating pip"
	$(PY) -m pip install --upgrade pip
	@echo "==> 3/3 installing Renke and its dependencies (a few minutes the first time)"
	$(PY) -m pip install --progress-bar on -e '.[dev]'
	touch $@

.PHONY: install run test
install: $(VENV)/.installed

run: install
	@echo "==> starting on http://127.0.0.1:$(PORT)/ (Ctrl-C stops it)"
	$(PY) -m service --demo --port $(PORT)

# Every core (pytest-xdist, an idle worker taking tests from a busy one); each worker has its own
# databases (tests/conftest.py).
test: install
	$(PY) -m pytest -q -n auto --dist worksteal
