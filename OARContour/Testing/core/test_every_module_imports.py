"""Every module of the library imports in this environment.

Slicer executes the module file at start-up, and that file imports the Logic and, through it, the
core: one module that needs an API the bundled packages lack (``pydicom.pixels`` under Slicer 5.10's
pydicom 2.4) drops the whole module from Slicer's module list. ``make test`` runs this in the main
environment and in each Slicer's pinned packages (``Testing/Environments``).
"""

from __future__ import annotations

import importlib
import pkgutil

import OARContourLib

MODULES = sorted(info.name for info in pkgutil.walk_packages(OARContourLib.__path__, "OARContourLib."))


def test_the_library_has_its_packages() -> None:
    assert {"OARContourLib.dicom_compat", "OARContourLib.ct.pixels", "OARContourLib.logic"} <= set(MODULES)


def test_every_module_imports() -> None:
    failed = []
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception as error:  # report every module that fails, not only the first
            failed.append(f"{name}: {type(error).__name__}: {error}")
    assert not failed, "\n".join(failed)
