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

# lint-imports checks the architecture's import contracts (pyproject.toml) before the suite runs.
test: setup
	$(VENV)/bin/lint-imports --no-cache
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

bench: setup
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
