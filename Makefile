# The two commands of the README contract: `make run` and `make test`.
# Both go through `make setup`, which creates or refreshes .venv and is idempotent.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: setup
	$(VENV)/bin/hrm-studio

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

bench: setup
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info

# Screenshots of the Studio window under xvfb-run (installs xvfb if missing), for the README.
.PHONY: screenshots
screenshots: setup
	bash scripts/screenshots.sh
