"""What the panel says when a package under the core is missing or too old (OARContourLib.startup)."""

from __future__ import annotations

import sys

import pytest
from OARContourLib import startup
from OARContourLib.errors import InputError


def test_the_table_names_every_core_package() -> None:
    table = {r.package: r for r in startup.minimum_versions()}
    assert set(table) == {"python", "pydicom", "numpy", "scipy", "SimpleITK", "Pillow"}
    assert table["pydicom"].minimum == "2.4.4", "Slicer 5.10 bundles pydicom 2.4.4: the floor must allow it"
    assert table["Pillow"].module == "PIL" and table["python"].module == ""
    for requirement in table.values():
        assert startup.version_tuple(requirement.minimum), f"{requirement.package}: unreadable minimum"


@pytest.mark.parametrize("text, expected", [("2.4.4", (2, 4, 4)), ("2.0.2rc1", (2, 0, 2)), ("11.2.1.post1", (11, 2, 1)),
                                            ("3.12.10", (3, 12, 10)), ("unknown", ())])
def test_version_tuple(text: str, expected: tuple[int, ...]) -> None:
    assert startup.version_tuple(text) == expected


def test_this_environment_passes() -> None:
    assert startup.version_problem() is None


def test_a_too_old_pydicom_is_named_with_the_update_command() -> None:
    old = {"pydicom": "2.3.0", "numpy": "1.26.4"}
    problem = startup.version_problem(lambda r: old.get(r.package, startup.installed_version(r)))
    assert problem is not None
    assert "pydicom 2.3.0 is older than 2.4.4" in problem.message and "numpy 1.26.4 is older than 2.0.2" in problem.message
    assert problem.hint == "Update them with: pip install 'pydicom>=2.4.4' 'numpy>=2.0.2'"


def test_an_old_python_asks_for_a_newer_slicer() -> None:
    problem = startup.version_problem(lambda r: "3.9.10" if r.package == "python" else None)
    assert problem is not None and "python 3.9.10 is older than 3.10" in problem.message
    assert "Slicer 5.10 or newer" in problem.hint


def test_versions_without_metadata_are_left_to_the_import() -> None:
    # Slicer builds some packages from source without metadata: no version is not "too old".
    assert startup.version_problem(lambda r: None) is None


def test_errors_become_problems_with_a_hint() -> None:
    missing = startup.problem_from_error(ModuleNotFoundError("No module named 'pydicom.pixels'", name="pydicom.pixels"))
    assert "pydicom is missing or too old" in missing.message and "'pydicom>=2.4.4'" in missing.hint
    ours = startup.problem_from_error(InputError("No MRML.", hint="Install slicer-core."))
    assert ours.message == "OARContour cannot start: No MRML." and ours.hint == "Install slicer-core."
    try:
        raise TypeError("save_as() got an unexpected keyword argument 'enforce_file_format'")
    except TypeError as error:
        other = startup.problem_from_error(error)
    assert other.message.startswith("OARContour cannot start: TypeError: save_as()")
    assert other.hint == startup.REINSTALL_HINT and "Traceback" in other.detail


def test_install_command_outside_the_app_is_a_quoted_shell_command() -> None:
    assert "slicer" not in sys.modules or not hasattr(sys.modules["slicer"], "app")
    assert not startup.in_slicer_app()
    assert startup.install_command("pylibjpeg pylibjpeg-openjpeg") == "pip install pylibjpeg pylibjpeg-openjpeg"
    assert startup.install_command("pydicom>=2.4.4") == "pip install 'pydicom>=2.4.4'"


def test_install_command_inside_the_app_names_pip_install(monkeypatch) -> None:
    # Only the application gives the slicer module an `app`; this stands in for nothing else.
    import types

    application = types.ModuleType("slicer")
    application.app = object()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "slicer", application)
    assert startup.in_slicer_app()
    assert startup.install_command("pylibjpeg pylibjpeg-openjpeg") == (
        'slicer.util.pip_install("pylibjpeg pylibjpeg-openjpeg") in the Python console, then restart Slicer')
