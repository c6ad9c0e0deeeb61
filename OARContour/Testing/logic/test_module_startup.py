"""``OARContour.py`` always loads in Slicer, and says in its panel what is missing.

Each test loads the module file in a fresh interpreter the way Slicer's module factory does, with
MRML from slicer-core and the application's GUI modules stood in for (see
:mod:`testsupport.slicer_app_standin`). A package is made missing with an import hook that fails
as an uninstalled package does. Timings are measured by ``make bench`` (bench_startup.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

TESTING = Path(__file__).resolve().parents[1]
MODULE_DIR = TESTING.parent


def load_in_fresh_interpreter(*arguments: str) -> dict[str, Any]:
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([str(MODULE_DIR), str(TESTING)]))
    completed = subprocess.run([sys.executable, "-m", "testsupport.slicer_app_standin", *arguments],
                               capture_output=True, text=True, env=environment, cwd=TESTING, timeout=300)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_loading_the_module_file_imports_nothing_heavy() -> None:
    loaded = load_in_fresh_interpreter()
    assert loaded["classes"] == ["OARContour", "OARContourWidget", "OARContourTest"]
    assert loaded["title"] == "OARContour" and loaded["categories"] == ["Radiotherapy"]
    # slicer-core imports numpy itself; what counts is what the module file adds to start-up.
    assert loaded["heavy_imported"] == [], f"importing OARContour.py imported {loaded['heavy_imported']}"


def test_the_panel_builds_the_logic_on_first_use() -> None:
    loaded = load_in_fresh_interpreter("--start")
    assert loaded["problem"] is None, loaded["problem"]
    assert loaded["logic"] == "OARContourLogic"
    assert loaded["console_logic"] is True
    assert loaded["engines"] == ["classical", "totalsegmentator"]


def test_the_module_loads_when_its_library_cannot_be_imported() -> None:
    loaded = load_in_fresh_interpreter("--block", "OARContourLib", "--start")
    assert loaded["classes"] == ["OARContour", "OARContourWidget", "OARContourTest"], "Slicer would drop the module"
    problem = loaded["problem"]
    assert problem is not None and loaded["logic"] is None
    assert "library cannot be imported" in problem["message"] and "No module named 'OARContourLib'" in problem["message"]
    assert "Reinstall OARContour" in problem["hint"]
    assert "ModuleNotFoundError" in problem["detail"], "the panel's details box must hold the traceback"
    assert loaded["console_logic"] is False


@pytest.mark.parametrize("package, pip_name", [("pydicom", "pydicom>=2.4.4"), ("scipy", "scipy>=1.13.1"),
                                               ("SimpleITK", "SimpleITK>=2.5.2")])
def test_a_missing_package_is_named_with_its_install_command(package: str, pip_name: str) -> None:
    loaded = load_in_fresh_interpreter("--block", package, "--start")
    assert loaded["classes"] == ["OARContour", "OARContourWidget", "OARContourTest"]
    problem = loaded["problem"]
    assert problem is not None, f"the Logic was built although {package} cannot be imported"
    assert f"the Python package {package} is missing or too old" in problem["message"]
    # Outside the application there is no slicer.app, so the hint is a shell command.
    assert problem["hint"] == f"Install it with: pip install '{pip_name}'"
    assert f"No module named '{package}" in problem["detail"]
