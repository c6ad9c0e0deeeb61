# OARContour: two commands for a fresh clone — `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
DEMO_OUT ?= demo_output
# A second environment with the real TotalSegmentator, as a user installs it, for the tests that check
# the preflight and the class map against the package (it pins vtk 9.3, slicer-core needs 9.6: it cannot
# share $(VENV)). torch is pinned to the CPU build this machine and CI have on disk; override TORCH_SPEC
# elsewhere (e.g. TORCH_SPEC=torch to take the newest build).
TS_VENV ?= .venv-ts
TORCH_SPEC ?= torch==2.13.0

# One environment per supported Slicer release with exactly the numpy, scipy, pydicom, SimpleITK and
# Pillow it bundles (OARContour/Testing/Environments/slicer-<version>.txt). The pin file is also the pip
# constraint for the test tools, so pip fails instead of changing a bundled version. The whole suite
# (static, core, cli, headless logic) runs in each: `make test-slicer510 test-slicer512`.
PIN_DIR       := OARContour/Testing/Environments
SLICER_PINNED := 5.10 5.12

.PHONY: demo test bench lint clean test-slicer510 test-slicer512
.PRECIOUS: .venv-slicer-%/.deps

# The virtual environment is made on first use; dependencies are reinstalled when pyproject.toml changes.
$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel
	touch $@

$(VENV)/.deps-demo: pyproject.toml $(VENV)/.created
	$(PIP) install --quiet ".[decoders,headless]"
	touch $@

$(VENV)/.deps-test: pyproject.toml $(VENV)/.created
	$(PIP) install --quiet ".[test]"
	touch $@

$(VENV)/.deps-bench: pyproject.toml $(VENV)/.created
	$(PIP) install --quiet ".[bench]"
	# rt-utils declares the Python 3.6 `dataclasses` backport, which breaks on 3.10+ if imported.
	$(PIP) uninstall --quiet --yes dataclasses
	touch $@

$(TS_VENV)/.deps-ts: pyproject.toml
	$(PYTHON) -m venv $(TS_VENV)
	$(TS_VENV)/bin/python -m pip install --quiet "$(TORCH_SPEC)" ".[totalsegmentator]"
	touch $@

.venv-slicer-%/.deps: $(PIN_DIR)/slicer-%.txt pyproject.toml
	rm -rf $(@D)
	$(PYTHON) -m venv $(@D)
	$(@D)/bin/python -m pip install --quiet --upgrade pip setuptools wheel
	$(@D)/bin/python -m pip install --quiet --constraint $< --requirement $<
	$(@D)/bin/python -m pip install --quiet --constraint $< ".[test-core]"
	touch $@

# The package itself is reinstalled every time (no-deps, fast) so tests run what a user installs.
install-self:
	$(PIP) install --quiet --no-deps --no-build-isolation --force-reinstall .

demo: $(VENV)/.deps-demo
	@$(MAKE) --no-print-directory install-self
	$(VENV)/bin/oarcontour demo --out $(DEMO_OUT) --overwrite

test: $(VENV)/.deps-test $(TS_VENV)/.deps-ts
	@$(MAKE) --no-print-directory install-self
	$(VENV)/bin/ruff check OARContour
	cd OARContour && ../$(VENV)/bin/mypy OARContourLib
	OARCONTOUR_TEST_TS_PYTHON="$(abspath $(TS_VENV))/bin/python" $(PY) -m pytest
	@$(MAKE) --no-print-directory $(SLICER_PINNED:%=test-slicer-%)

# The versions are checked again before every run: a stale environment fails here, not in a test.
test-slicer-%: .venv-slicer-%/.deps $(TS_VENV)/.deps-ts
	.venv-slicer-$*/bin/python -m pip install --quiet --no-deps --no-build-isolation --force-reinstall .
	.venv-slicer-$*/bin/python $(PIN_DIR)/check_pins.py $(PIN_DIR)/slicer-$*.txt
	# The DICOM node is not part of the Slicer module and needs pydicom 3 (pynetdicom 3): its tests run in $(VENV).
	OARCONTOUR_TEST_TS_PYTHON="$(abspath $(TS_VENV))/bin/python" .venv-slicer-$*/bin/python -m pytest -m "not service"

test-slicer510: test-slicer-5.10
test-slicer512: test-slicer-5.12

bench: $(VENV)/.deps-bench
	@$(MAKE) --no-print-directory install-self
	$(PY) OARContour/Testing/Benchmarks/run_benchmarks.py

clean:
	rm -rf $(VENV) $(TS_VENV) $(SLICER_PINNED:%=.venv-slicer-%) $(DEMO_OUT) build *.egg-info .pytest_cache
