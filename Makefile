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

.PHONY: demo test bench lint clean

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

bench: $(VENV)/.deps-bench
	@$(MAKE) --no-print-directory install-self
	$(PY) OARContour/Testing/Benchmarks/run_benchmarks.py

clean:
	rm -rf $(VENV) $(TS_VENV) $(DEMO_OUT) build *.egg-info .pytest_cache
