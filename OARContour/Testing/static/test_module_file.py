"""Static checks of the module file and of the layering below it (no Slicer, no Qt).

The module file is parsed, never imported: it needs ``qt`` and ``slicer.ScriptedLoadableModule``,
which exist only inside the Slicer application.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
MODULE_DIR = REPO_ROOT / "OARContour"
MODULE_FILE = MODULE_DIR / "OARContour.py"
LIB_DIR = MODULE_DIR / "OARContourLib"

# GUI-only modules: the Qt application and the scripted-module GUI framework.
GUI_MODULES = ("qt", "ctk", "PythonQt", "slicer.ScriptedLoadableModule", "slicer.parameterNodeWrapper")
# The only places allowed to touch MRML; everything else must run in a plain interpreter.
SLICER_ALLOWED = ("logic/", "headless.py")
# DICOM and array work belong to the Logic and the core, never to the panel.
WIDGET_FORBIDDEN = ("numpy", "pydicom", "highdicom")


@pytest.fixture(scope="module")
def tree() -> ast.Module:
    return ast.parse(MODULE_FILE.read_text(encoding="utf-8"), filename=str(MODULE_FILE))


def imported_modules(tree: ast.AST) -> set[str]:
    """Absolute module names imported anywhere in a file, including ``from x import y`` as x.y."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _matches(name: str, module: str) -> bool:
    return name == module or name.startswith(module + ".")


def classes(tree: ast.Module) -> dict[str, ast.ClassDef]:
    return {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}


def method(cls: ast.ClassDef, name: str) -> ast.FunctionDef:
    found = [node for node in cls.body if isinstance(node, ast.FunctionDef) and node.name == name]
    assert found, f"{cls.name} has no method {name}"
    return found[0]


def parent_assignment(tree: ast.Module, attribute: str) -> ast.expr:
    """The value assigned to ``self.parent.<attribute>`` in ``OARContour.__init__``."""
    init = method(classes(tree)["OARContour"], "__init__")
    for node in ast.walk(init):
        if isinstance(node, ast.Assign):
            target = node.targets[0]
            if isinstance(target, ast.Attribute) and target.attr == attribute and ast.unparse(target.value) == "self.parent":
                return node.value
    raise AssertionError(f"OARContour.__init__ does not set self.parent.{attribute}")


def strings_in(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def library_files() -> list[Path]:
    return sorted(path for path in LIB_DIR.rglob("*.py") if "__pycache__" not in path.parts)


# --- the module file -----------------------------------------------------------------------------


@pytest.mark.parametrize("name, base", [
    ("OARContour", "ScriptedLoadableModule"),
    ("OARContourWidget", "ScriptedLoadableModuleWidget"),
    ("OARContourWidget", "VTKObservationMixin"),
    ("OARContourTest", "ScriptedLoadableModuleTest"),
])
def test_defines_slicer_classes(tree, name, base):
    assert name in classes(tree), f"OARContour.py must define class {name}"
    bases = [ast.unparse(b).split(".")[-1] for b in classes(tree)[name].bases]
    assert base in bases, f"{name} must derive from {base}, not {bases}"


def test_imports_nothing_of_the_library_at_module_level(tree):
    # Slicer executes the file at start-up and drops the module if it raises: the core (numpy,
    # pydicom of the right versions) is imported when the panel is first shown, inside functions.
    top_level = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    names = imported_modules(ast.Module(body=top_level, type_ignores=[]))
    offending = sorted(name for name in names if _matches(name, "OARContourLib"))
    assert not offending, f"OARContour.py imports {offending} at module level"
    assert "OARContourLogic" not in classes(tree), "the Logic belongs in OARContourLib, not in OARContour.py"


def test_module_level_statements_are_definitions_only(tree):
    # Any call at import (like the former OARContourLogic().panelChoices()) runs during Slicer's start-up.
    allowed = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        assert isinstance(node, allowed), f"line {node.lineno}: {ast.unparse(node)[:60]} runs at import"
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            calls = [ast.unparse(n)[:60] for n in ast.walk(node.value) if isinstance(n, ast.Call)]
            assert not calls, f"line {node.lineno}: {calls} is called at import"


@pytest.mark.parametrize("forbidden", WIDGET_FORBIDDEN)
def test_module_file_does_no_dicom_or_array_work(tree, forbidden):
    offending = sorted(name for name in imported_modules(tree) if _matches(name, forbidden))
    assert not offending, f"OARContour.py imports {offending}; move that work into the Logic"


def test_category_is_radiotherapy(tree):
    assert strings_in(parent_assignment(tree, "categories")) == ["qSlicerAbstractCoreModule", "Radiotherapy"]


def test_title_and_help_state_what_it_is(tree):
    assert "OARContour" in strings_in(parent_assignment(tree, "title"))
    help_text = " ".join(strings_in(parent_assignment(tree, "helpText"))).lower()
    assert "not a medical device" in help_text and "review" in help_text, (
        "helpText must say the module is not a medical device and that contours must be reviewed")


def test_module_declares_no_hard_module_dependencies(tree):
    # SlicerRT and TotalSegmentator are optional; a listed module that is absent stops loading.
    assert ast.literal_eval(parent_assignment(tree, "dependencies")) == []


def _button_handlers(tree: ast.Module) -> list[ast.FunctionDef]:
    widget = classes(tree)["OARContourWidget"]
    return [node for node in widget.body if isinstance(node, ast.FunctionDef)
            and node.name.startswith("on") and node.name.endswith("Button")]


def test_button_handlers_make_one_logic_call_with_error_display(tree):
    handlers = _button_handlers(tree)
    assert handlers, "OARContourWidget has no on...Button handlers"
    for handler in handlers:
        with_items = [item.context_expr for node in ast.walk(handler) if isinstance(node, ast.With) for item in node.items]
        guarded = [call for call in with_items if isinstance(call, ast.Call)
                   and ast.unparse(call.func) == "slicer.util.tryWithErrorDisplay"
                   and any(k.arg == "waitCursor" and ast.unparse(k.value) == "True" for k in call.keywords)]
        assert guarded, f"{handler.name} must run inside slicer.util.tryWithErrorDisplay(..., waitCursor=True)"
        logic_calls = [node for node in ast.walk(handler) if isinstance(node, ast.Call)
                       and isinstance(node.func, ast.Attribute) and ast.unparse(node.func.value) == "self.logic"]
        assert len(logic_calls) == 1, f"{handler.name} makes {len(logic_calls)} Logic calls; the rule is one"


def test_module_file_runs_on_python_39(tree):
    # Slicer 5.8 ships Python 3.9: annotations are evaluated at import, so `X | None` breaks loading.
    ast.parse(MODULE_FILE.read_text(encoding="utf-8"), feature_version=(3, 9))
    future = any(isinstance(n, ast.ImportFrom) and n.module == "__future__" for n in tree.body)
    annotations = [n.annotation for n in ast.walk(tree) if isinstance(n, (ast.arg, ast.AnnAssign)) and n.annotation]
    annotations += [n.returns for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.returns]
    unions = [ast.unparse(a) for a in annotations if any(isinstance(n, ast.BinOp) for n in ast.walk(a))]
    assert future or not unions, f"use typing.Optional/Union instead of {unions}"


def logic_methods() -> set[str]:
    """Public methods of the OARContourLogic class defined under OARContourLib/logic/."""
    for path in sorted((LIB_DIR / "logic").glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and node.name == "OARContourLogic":
                return {n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    raise AssertionError("no class OARContourLogic under OARContourLib/logic/")


def test_every_logic_method_the_module_calls_exists(tree):
    # Catches a renamed Logic method here rather than when a user clicks the button in Slicer.
    called = {
        node.attr for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and ast.unparse(node.value) in ("self.logic", "logic")
    }
    assert called, "OARContour.py calls no Logic method; the parser or the module is broken"
    missing = sorted(called - logic_methods())
    assert not missing, f"OARContour.py calls OARContourLogic.{missing}, which OARContourLib/logic/ does not define"


# --- layering below the module file --------------------------------------------------------------


def test_library_has_modules_to_check():
    assert library_files(), f"no .py files found under {LIB_DIR}"


@pytest.mark.parametrize("path", library_files(), ids=lambda p: p.relative_to(LIB_DIR).as_posix())
def test_library_imports_no_gui(path):
    imports = imported_modules(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    # `from slicer import ScriptedLoadableModule` is recorded as slicer.ScriptedLoadableModule too.
    offending = sorted(name for name in imports if any(_matches(name, gui) for gui in GUI_MODULES))
    assert not offending, f"OARContourLib/{path.relative_to(LIB_DIR).as_posix()} imports GUI modules {offending}"


def _core_files() -> list[Path]:
    return [path for path in library_files() if not path.relative_to(LIB_DIR).as_posix().startswith(SLICER_ALLOWED)]


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: p.relative_to(LIB_DIR).as_posix())
def test_only_logic_and_headless_import_slicer(path):
    relative = path.relative_to(LIB_DIR).as_posix()
    imports = imported_modules(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    offending = sorted(name for name in imports if _matches(name, "slicer") or _matches(name, "slicer_core"))
    assert not offending, (
        f"OARContourLib/{relative} imports {offending}; only {SLICER_ALLOWED} may import slicer, so that the "
        f"core and the CLI run without Slicer")
