"""The Slicer package pins, the Makefile, pyproject and the README support matrix agree.

``Testing/Environments/slicer-<version>.txt`` holds what each supported Slicer bundles; ``make test``
builds one environment per file and runs every suite in it, after ``check_pins.py`` has confirmed the
installed versions. These checks keep the files, the README table and the dependency floors in step.
"""

from __future__ import annotations

import importlib.util
import re
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO_ROOT = Path(__file__).resolve().parents[3]
ENV_DIR = REPO_ROOT / "OARContour" / "Testing" / "Environments"
BUNDLED = {"pydicom", "numpy", "scipy", "SimpleITK", "Pillow"}


def _check_pins():
    spec = importlib.util.spec_from_file_location("check_pins", ENV_DIR / "check_pins.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pin_files() -> dict[str, Path]:
    return {re.fullmatch(r"slicer-(\d+\.\d+)\.txt", p.name).group(1): p for p in sorted(ENV_DIR.glob("slicer-*.txt"))}


def test_each_supported_slicer_pins_exactly_its_bundled_packages() -> None:
    files = _pin_files()
    assert set(files) == {"5.10", "5.12"}
    for path in files.values():
        pins = _check_pins().read_pins(path)
        assert set(pins) == BUNDLED, f"{path.name}: pins {sorted(pins)}"
        assert all(re.fullmatch(r"\d+(\.\d+)+", v) for v in pins.values()), f"{path.name}: {pins}"


def test_makefile_builds_one_environment_per_pin_file() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    listed = re.search(r"^SLICER_PINNED\s*:?=\s*(.*)$", makefile, re.MULTILINE)
    assert listed and sorted(listed.group(1).split()) == sorted(_pin_files())
    for version in _pin_files():
        assert f"test-slicer{version.replace('.', '')}: test-slicer-{version}" in makefile


def test_readme_matrix_shows_the_pinned_versions() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for version, path in _pin_files().items():
        rows = [line for line in readme.splitlines() if line.startswith(f"| {version}")]
        assert len(rows) == 1, f"README needs one support-matrix row starting with '| {version}'"
        cells = [cell.strip() for cell in rows[0].split("|")]
        for package, pinned in _check_pins().read_pins(path).items():
            assert pinned in cells, f"README row for Slicer {version} does not show {package} {pinned}"


def test_dependency_ranges_admit_every_supported_slicer() -> None:
    tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11")
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = {Requirement(text).name.lower(): Requirement(text) for text in project["dependencies"]}
    assert {name.lower() for name in BUNDLED} <= set(requirements)
    for version, path in _pin_files().items():
        for package, pinned in _check_pins().read_pins(path).items():
            assert requirements[package.lower()].specifier.contains(pinned), \
                f"pyproject {requirements[package.lower()]} excludes Slicer {version}'s {package} {pinned}"


def test_pin_check_accepts_this_environment_and_reports_a_difference() -> None:
    check = _check_pins()
    here = {name: metadata.version(name) for name in sorted(BUNDLED)}
    assert check.mismatches(here) == []
    wrong = {"numpy": "0.0.1", "no-such-package-oarcontour": "1.0"}
    assert check.mismatches(wrong) == ["numpy: pinned 0.0.1, installed " + here["numpy"],
                                       "no-such-package-oarcontour: pinned 1.0, installed nothing"]
