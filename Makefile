# The two commands of the README contract: `make run` and `make test`.
# Both set up .venv first, and only as far as they need: `make run` installs what running
# needs (`pip install -e .`), `make test` adds the test tools (`-e '.[test]'`). Each install
# leaves a stamp in .venv, so a second `make run` or `make test` installs nothing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
MIN_PYTHON := 3.11
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

COMMA := ,
# Exits 0 on a Python at least $(MIN_PYTHON), 1 on an older one (written to run on any Python).
NEW_ENOUGH := import sys; sys.exit(int(sys.version_info[:2] < ($(subst .,$(COMMA),$(MIN_PYTHON)))))
# A PYTHON named on the command line (or in the environment) also asks for a .venv of its version.
ifneq ($(origin PYTHON),file)
WANTED := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
endif
VENV_FITS := import sys; sys.exit(int(sys.version_info[:2] < ($(subst .,$(COMMA),$(MIN_PYTHON)))$(if \
    $(WANTED), or "%d.%d" % sys.version_info[:2] != "$(WANTED)")))
# A .venv is reused only while its python runs, is new enough and is the version asked for. One
# made by an old Python, or whose Python has gone, is rebuilt: its stamps are out of date.
VENV_OK := $(shell $(PY) -c '$(VENV_FITS)' >/dev/null 2>&1 && echo yes)
STALE := $(if $(VENV_OK),,FORCE)

# Fails with what to do, in two lines, when $(PYTHON) is missing or older than $(MIN_PYTHON).
# Suggests a newer python3.X found on PATH, else how to install one.
define CHECK_PYTHON
if ! $(PYTHON) -c '$(NEW_ENOUGH)' >/dev/null 2>&1; then \
    found=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
    better=; for candidate in python3.14 python3.13 python3.12 python3.11; do \
        if $$candidate -c '$(NEW_ENOUGH)' >/dev/null 2>&1; then better=$$candidate; break; fi; done; \
    if [ -n "$$found" ]; then found="is Python $$found"; else found="was not found or does not run"; fi; \
    echo "HRM Studio needs Python $(MIN_PYTHON) or newer; '$(PYTHON)' $$found." >&2; \
    if [ -n "$$better" ]; then echo "This machine has $$better: run  make $(or $(MAKECMDGOALS),setup) PYTHON=$$better" >&2; \
    else echo "Install python$(MIN_PYTHON) (e.g. sudo apt-get install python$(MIN_PYTHON) python$(MIN_PYTHON)-venv) and run:  make $(or $(MAKECMDGOALS),setup) PYTHON=python$(MIN_PYTHON)" >&2; fi; \
    exit 1; \
fi
endef

.PHONY: setup setup-test check-python venv run test bench clean FORCE
setup: $(RUN_STAMP)
setup-test: $(TEST_STAMP)
FORCE:

check-python:
	@$(CHECK_PYTHON)

# Keeps a working .venv; otherwise checks $(PYTHON) and builds .venv afresh with it.
venv:
	@if ! $(PY) -c '$(VENV_FITS)' >/dev/null 2>&1; then \
	    $(CHECK_PYTHON); \
	    if [ -e $(VENV) ]; then echo "$(VENV) was made by a missing, too old or other Python: rebuilding it with $(PYTHON)."; fi; \
	    rm -rf $(VENV); \
	    $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }; \
	fi

$(RUN_STAMP): pyproject.toml $(STALE) | venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

# The test extras include everything running needs, so `make run` afterwards installs nothing.
$(TEST_STAMP): pyproject.toml $(STALE) | venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(RUN_STAMP) $@

run: setup
	$(VENV)/bin/hrm-studio

# lint-imports checks the architecture's import contracts (pyproject.toml) before the suite runs.
# Two test processes (pytest-xdist): the suite is mostly small trainings that each use a core.
TEST_PROCESSES ?= 2
test: setup-test
	$(VENV)/bin/lint-imports --no-cache
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -n $(TEST_PROCESSES)

# The test tools too: the `suite` row times the whole test suite (`make test`'s command).
bench: setup-test
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info

# Screenshots of the Studio window under xvfb-run (installs xvfb if missing), for the README.
.PHONY: screenshots
screenshots: setup
	bash scripts/screenshots.sh

# ---- Desktop app: menu entry, packaged build -------------------------------------------------
APP_ID := io.github.hrmstudio.HRMStudio
ICON_SIZES := 16 24 32 48 64 128 256 512
# Where `install-desktop` puts the menu entry, metainfo and icons. DESTDIR stages a copy
# elsewhere (tests, distribution packages); DATA_HOME follows XDG_DATA_HOME when set.
DATA_HOME ?= $(or $(XDG_DATA_HOME),$(HOME)/.local/share)
SHARE = $(DESTDIR)$(DATA_HOME)
# The program the menu entry starts: the one on PATH, else this checkout's .venv.
# For the packaged build: make install-desktop EXEC=$$PWD/dist/hrm-studio/hrm-studio
EXEC ?= $(or $(shell command -v hrm-studio 2>/dev/null),$(abspath $(VENV)/bin/hrm-studio))

.PHONY: install-desktop uninstall-desktop package
install-desktop:
	install -d "$(SHARE)/applications" "$(SHARE)/metainfo" "$(SHARE)/icons/hicolor/scalable/apps"
	sed -e 's|^Exec=hrm-studio|Exec="$(EXEC)"|' -e 's|^TryExec=hrm-studio|TryExec=$(EXEC)|' \
	    packaging/linux/$(APP_ID).desktop > "$(SHARE)/applications/$(APP_ID).desktop"
	install -m 644 packaging/linux/$(APP_ID).metainfo.xml "$(SHARE)/metainfo/$(APP_ID).metainfo.xml"
	install -m 644 resources/icon/hrm-studio.svg "$(SHARE)/icons/hicolor/scalable/apps/$(APP_ID).svg"
	for size in $(ICON_SIZES); do \
	    install -D -m 644 resources/icon/hrm-studio-$$size.png \
	        "$(SHARE)/icons/hicolor/$${size}x$${size}/apps/$(APP_ID).png"; \
	done
	touch "$(SHARE)/icons/hicolor"  # desktops re-read a theme folder whose time changed
	@echo "HRM Studio is in the desktop's menu (starts $(EXEC)); make uninstall-desktop removes it."

uninstall-desktop:
	rm -f "$(SHARE)/applications/$(APP_ID).desktop" "$(SHARE)/metainfo/$(APP_ID).metainfo.xml" \
	      "$(SHARE)/icons/hicolor/scalable/apps/$(APP_ID).svg" \
	      $(foreach size,$(ICON_SIZES),"$(SHARE)/icons/hicolor/$(size)x$(size)/apps/$(APP_ID).png")
	@echo "HRM Studio's menu entry, metainfo and icons are removed."

# A one-folder app in dist/hrm-studio/ that runs without Python (PyInstaller; heavy: minutes).
# Not part of `make test`. Installs PyInstaller into .venv when it is missing.
package: setup
	$(PY) -c "import PyInstaller" 2>/dev/null || $(PY) -m pip install --quiet 'pyinstaller>=6.10'
	@start=$$(date +%s); \
	$(PY) -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller \
	    packaging/pyinstaller/hrm-studio.spec && \
	echo "built dist/hrm-studio in $$(( $$(date +%s) - start )) s; size $$(du -sh dist/hrm-studio | cut -f1)" \
	     "($$(find dist/hrm-studio -type f | wc -l) files); try: dist/hrm-studio/hrm-studio --self-test"
