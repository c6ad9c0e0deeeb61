# OARContour: two commands for a fresh clone — `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
DEMO_OUT ?= demo_output

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

# The package itself is reinstalled every time (no-deps, fast) so tests run what a user installs.
install-self:
	$(PIP) install --quiet --no-deps --no-build-isolation --force-reinstall .

demo: $(VENV)/.deps-demo
	@$(MAKE) --no-print-directory install-self
	$(VENV)/bin/oarcontour demo --out $(DEMO_OUT) --overwrite

test: $(VENV)/.deps-test
	@$(MAKE) --no-print-directory install-self
	$(VENV)/bin/ruff check OARContour
	cd OARContour && ../$(VENV)/bin/mypy OARContourLib
	$(PY) -m pytest

bench: $(VENV)/.deps-bench
	@$(MAKE) --no-print-directory install-self
	$(PY) OARContour/Testing/Benchmarks/run_benchmarks.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) build *.egg-info .pytest_cache
