"""Load ``OARContour.py`` the way Slicer does at start-up, in a plain interpreter, and report what it cost.

Run as a script (``python -m testsupport.slicer_app_standin [options]``) so that each run starts from a
fresh interpreter, as Slicer does; it prints one JSON object.

Slicer's factory executes the module file with ``importlib`` and instantiates the class named after
the file (``qSlicerScriptedUtils.cxx``:37-62, ``qSlicerScriptedLoadableModule.cxx``:106-175). MRML
(``slicer``, ``vtk``) comes from the real slicer-core wheel. Only the application's GUI modules,
which exist solely inside the application, are stood in for: ``qt`` (unused at import),
``slicer.i18n`` (``tr`` and ``translate`` return the text) and ``slicer.ScriptedLoadableModule``
(the four base classes; ``ScriptedLoadableModule.__init__`` sets the same ``parent`` fields as
Slicer's). Nothing of MRML, pydicom or the file system is replaced.

Options
-------
--block NAME
    Make ``import NAME`` (and its submodules) fail as a missing package does; repeatable.
--start
    Also call ``startLogic()`` (what the panel does when first shown) and report its problem.
"""

from __future__ import annotations

import argparse
import importlib.abc
import importlib.util
import json
import sys
import time
import types
import unittest
from pathlib import Path
from typing import Any

MODULE_FILE = Path(__file__).resolve().parents[2] / "OARContour.py"
#: Packages the module file must not import at start-up (each costs Slicer start-up time, and
#: each can fail on the wrong version).
HEAVY = ("numpy", "scipy", "pydicom", "SimpleITK", "PIL", "OARContourLib")


class Blocker(importlib.abc.MetaPathFinder):
    """Raises ModuleNotFoundError for the given top-level packages, as when they are not installed."""

    def __init__(self, names: list[str]) -> None:
        self.names = set(names)

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named '{fullname}'", name=fullname)
        return None


def _gui_standins() -> dict[str, types.ModuleType]:
    qt = types.ModuleType("qt")
    i18n = types.ModuleType("slicer.i18n")
    i18n.tr = lambda text: text  # type: ignore[attr-defined]
    i18n.translate = lambda context, text: text  # type: ignore[attr-defined]
    framework = types.ModuleType("slicer.ScriptedLoadableModule")

    class ScriptedLoadableModule:
        def __init__(self, parent: Any) -> None:
            self.parent = parent
            self.moduleName = type(self).__name__
            parent.title, parent.categories, parent.dependencies = "", [], []
            parent.contributors, parent.helpText, parent.acknowledgementText = [], "", ""

    class ScriptedLoadableModuleWidget:
        def __init__(self, parent: Any = None) -> None:
            self.parent = parent

    class ScriptedLoadableModuleLogic:
        pass

    class ScriptedLoadableModuleTest(unittest.TestCase):
        pass

    for cls in (ScriptedLoadableModule, ScriptedLoadableModuleWidget, ScriptedLoadableModuleLogic,
                ScriptedLoadableModuleTest):
        setattr(framework, cls.__name__, cls)
    framework.__all__ = [cls.__name__ for cls in (ScriptedLoadableModule, ScriptedLoadableModuleWidget,  # type: ignore[attr-defined]
                                                  ScriptedLoadableModuleLogic, ScriptedLoadableModuleTest)]
    return {"qt": qt, "slicer.i18n": i18n, "slicer.ScriptedLoadableModule": framework}


def load_module_file(block: list[str], start: bool) -> dict[str, Any]:
    """Load the module file as Slicer does; what it imported, how long it took, what startLogic() said."""
    import slicer  # the application has these loaded before any scripted module
    import slicer.util  # noqa: F401
    import vtk  # noqa: F401

    for name, module in _gui_standins().items():
        sys.modules[name] = module
        if name.startswith("slicer."):
            setattr(slicer, name.split(".", 1)[1], module)
    if block:
        sys.meta_path.insert(0, Blocker(block))
    sys.path.insert(0, str(MODULE_FILE.parent))  # Slicer puts the module folder on sys.path
    before = set(sys.modules)
    started = time.perf_counter()
    spec = importlib.util.spec_from_file_location("OARContour", MODULE_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["OARContour"] = module
    spec.loader.exec_module(module)
    parent = types.SimpleNamespace(path=str(MODULE_FILE))
    module.OARContour(parent)  # what the factory does next
    seconds = time.perf_counter() - started
    added = sorted(set(sys.modules) - before)
    result: dict[str, Any] = {
        "import_s": seconds,
        "heavy_imported": [name for name in added if name.split(".")[0] in HEAVY],
        "classes": [name for name in ("OARContour", "OARContourWidget", "OARContourTest") if hasattr(module, name)],
        "title": parent.title,
        "categories": list(parent.categories),
    }
    if start:
        started = time.perf_counter()
        logic, choices, problem = module.startLogic()
        result["start_s"] = time.perf_counter() - started
        result["logic"] = type(logic).__name__ if logic is not None else None
        result["engines"] = [c.value for c in choices.engines] if choices is not None else []
        # `from OARContour import OARContourLogic` in the console; a broken library is an AttributeError.
        result["console_logic"] = hasattr(module, "OARContourLogic")
        result["problem"] = None if problem is None else {
            "message": problem.message, "hint": problem.hint, "detail": problem.detail}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--block", action="append", default=[])
    parser.add_argument("--start", action="store_true")
    args = parser.parse_args(argv)
    print(json.dumps(load_module_file(args.block, args.start)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
