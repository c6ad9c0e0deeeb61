"""Static checks of what only the Slicer application runs: start-up, the panel's Qt glue, the CTest self-test.

Each test names the Slicer behaviour it guards (see the sources in ../shared/docs/slicer-runtime.md);
the module file is parsed, never imported, since ``qt`` exists only inside the application.
"""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
MODULE_FILE = REPO_ROOT / "OARContour" / "OARContour.py"
UI_FILE = REPO_ROOT / "OARContour" / "Resources" / "UI" / "OARContour.ui"
EDITOR_PRESETS = REPO_ROOT / "OARContour" / "OARContourLib" / "logic" / "editor_presets.py"
#: Segment Editor effects derived from AbstractScriptedSegmentEditorAutoCompleteEffect (Slicer v5.10.0).
AUTO_COMPLETE_EFFECTS = {"Fill between slices", "Grow from seeds"}


@pytest.fixture(scope="module")
def tree() -> ast.Module:
    return ast.parse(MODULE_FILE.read_text(encoding="utf-8"), filename=str(MODULE_FILE))


def function(tree: ast.AST, name: str) -> ast.FunctionDef:
    found = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name]
    assert found, f"no function {name}"
    return found[0]


def calls(node: ast.AST, attribute: str) -> list[ast.Call]:
    """Calls of ``<anything>.attribute(...)`` or ``attribute(...)`` inside ``node``, in source order."""
    found = [n for n in ast.walk(node) if isinstance(n, ast.Call) and (
        (isinstance(n.func, ast.Attribute) and n.func.attr == attribute)
        or (isinstance(n.func, ast.Name) and n.func.id == attribute))]
    return sorted(found, key=lambda n: (n.lineno, n.col_offset))


def first_line(node: ast.AST, attribute: str) -> int:
    found = calls(node, attribute)
    assert found, f"{getattr(node, 'name', 'the code')} does not call {attribute}()"
    return found[0].lineno


def returns_early_when(function_node: ast.FunctionDef, condition: str) -> bool:
    first = next(s for s in function_node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)))
    return (isinstance(first, ast.If) and ast.unparse(first.test) == condition
            and any(isinstance(s, ast.Return) for s in first.body))


def constant_names(tree: ast.Module, name: str) -> list[str]:
    """A module tuple of strings, with ``*DICT`` entries expanded to the dict constant's keys."""
    values = {t.id: node.value for node in tree.body if isinstance(node, ast.Assign)
              for t in node.targets if isinstance(t, ast.Name)}
    names = []
    for element in values[name].elts:
        if isinstance(element, ast.Starred):
            names += list(ast.literal_eval(values[element.value.id]))
        else:
            names.append(ast.literal_eval(element))
    return names


# --- start-up: the module always appears -----------------------------------------------------------


def test_setup_shows_a_startup_problem_instead_of_the_panel(tree):
    setup = function(tree, "setup")
    start, load_ui = first_line(setup, "startLogic"), first_line(setup, "loadUI")
    guards = [n for n in ast.walk(setup) if isinstance(n, ast.If) and "problem" in ast.unparse(n.test)
              and calls(n, "_showStartupProblem") and any(isinstance(s, ast.Return) for s in n.body)]
    assert guards, "setup() must show the start-up problem and return when startLogic() reports one"
    assert start < guards[0].lineno < load_ui, "the problem must be handled before the panel is built"


def test_start_logic_never_raises(tree):
    start = function(tree, "startLogic")
    tries = [n for n in ast.walk(start) if isinstance(n, ast.Try)]
    assert tries and any(ast.unparse(h.type) == "Exception" for t in tries for h in t.handlers), (
        "startLogic must catch a library that cannot be imported")
    imports = [n for n in ast.walk(tries[0]) if isinstance(n, ast.ImportFrom) and n.module == "OARContourLib"]
    assert imports, "the library import must be inside the try"


def test_startup_problem_panel_says_what_to_do(tree):
    show = function(tree, "_showStartupProblem")
    text = ast.unparse(show)
    for needed in ("problem.message", "problem.hint", "problem.detail", "self.layout.addWidget"):
        assert needed in text, f"_showStartupProblem does not use {needed}"


@pytest.mark.parametrize("name", ["enter", "exit"])
def test_panel_hooks_do_nothing_without_a_logic(tree, name):
    widget = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "OARContourWidget")
    assert returns_early_when(function(widget, name), "self.logic is None"), (
        f"{name}() would touch self.ui, which does not exist when the start-up failed")


# --- finding 3: auto-complete effects keep overlapping structures -----------------------------------


def test_auto_complete_effects_only_touch_the_current_segment(tree):
    handler = function(tree, "onEffectPresetButton")
    assignments = [n for n in ast.walk(handler) if isinstance(n, ast.Assign)
                   and any(isinstance(t, ast.Attribute) and t.attr == "selectedSegmentIds" for t in n.targets)]
    assert assignments, "the effect's selectedSegmentIds must be set (else it merges every visible segment)"
    assert assignments[0].lineno < first_line(handler, "onPreview"), "selectedSegmentIds must be set before onPreview()"
    array = ast.unparse(assignments[0].value)
    built = [n for n in ast.walk(handler) if isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == array]
    assert built and ast.unparse(built[0].value) == "vtk.vtkStringArray()", "selectedSegmentIds is a vtkStringArray"
    inserted = [ast.unparse(c) for c in calls(handler, "InsertNextValue")]
    assert inserted == [f"{array}.InsertNextValue(self.ui.segmentEditorWidget.currentSegmentID())"], inserted


def test_every_auto_complete_preset_goes_through_the_preview_path():
    from OARContourLib.logic.editor_presets import effect_presets  # Resources/Editor/effect_presets.csv

    presets = effect_presets()
    assert presets, "no rows in effect_presets.csv"
    for preset in presets:
        assert preset.needs_preview is (preset.effect_name in AUTO_COMPLETE_EFFECTS), (
            f"{preset.effect_name}: needs_preview must be {not preset.needs_preview}")


# --- finding 5: the CTest self-test runs with --no-main-window --------------------------------------


def test_panel_test_selects_the_module_only_with_a_main_window(tree):
    selects = calls(tree, "selectModule")
    assert selects, "the self-test no longer selects the module; keep the check in step"
    guards = [n for n in ast.walk(tree) if isinstance(n, ast.If) and "noMainWindow" in ast.unparse(n.test)
              and "mainWindow()" in ast.unparse(n.test)]
    guarded = {id(c) for guard in guards for statement in guard.body for c in calls(statement, "selectModule")}
    unguarded = [c.lineno for c in selects if id(c) not in guarded]
    assert not unguarded, f"selectModule at lines {unguarded} raises under --no-main-window (CTest py_OARContour)"


# --- finding 6 ----------------------------------------------------------------------------------------


def test_editor_node_is_tagged_before_it_is_added_and_its_modes_are_set_once():
    source = function(ast.parse(EDITOR_PRESETS.read_text(encoding="utf-8")), "segment_editor_node")
    assert first_line(source, "SetSingletonTag") < first_line(source, "AddNode")
    assert not calls(source, "AddNewNodeByClass"), "AddNewNodeByClass adds the node before it can be tagged"
    once = [n for n in source.body if isinstance(n, ast.If) and ast.unparse(n.test) == "node.GetAttribute(RT_DEFAULTS_ATTRIBUTE) is None"]
    assert once, "segment_editor_node must set the RT defaults under `if node.GetAttribute(RT_DEFAULTS_ATTRIBUTE) is None:`"
    assert calls(once[0], "SetAttribute"), "the defaults must be marked as applied"
    for setter in ("SetOverwriteMode", "SetMaskMode"):
        inside = calls(once[0], setter)
        assert inside and len(calls(source, setter)) == len(inside), f"{setter} must run only once per node"


def test_effects_registered_later_reach_the_editor(tree):
    setup, cleanup = function(tree, "setup"), function(tree, "cleanup")
    assert "qSlicerSegmentEditorEffectFactory.instance()" in ast.unparse(setup)
    connects = [c for c in calls(setup, "connect") if c.args and ast.literal_eval(c.args[0]) == "effectRegistered(QString)"]
    assert connects, "setup() must connect effectRegistered(QString)"
    slot = ast.unparse(connects[0].args[1]).split(".")[-1]
    assert calls(function(tree, slot), "updateEffectList"), f"{slot} must call updateEffectList()"
    assert any(c.args and ast.literal_eval(c.args[0]) == "effectRegistered(QString)" for c in calls(cleanup, "disconnect"))


def test_a_rejected_rename_is_undone_in_the_table(tree):
    handler = function(tree, "onNameEdited")
    tries = [n for n in ast.walk(handler) if isinstance(n, ast.Try) and n.finalbody]
    assert tries, "tryWithErrorDisplay re-raises: the table refresh must be in a finally block"
    assert "tryWithErrorDisplay" in ast.unparse(tries[0].body)
    assert "_refreshNames" in ast.unparse(tries[0].finalbody)


def test_totalsegmentator_setup_errors_become_messages_with_a_restart_offer(tree):
    setup = function(tree, "_setUpTotalSegmentator")
    tries = [n for n in ast.walk(setup) if isinstance(n, ast.Try)]
    assert tries and calls(tries[0].body[0], "setupPythonRequirements"), "setupPythonRequirements must be in a try"
    handler = ast.unparse(tries[0].handlers[0])
    for needed in ("ts_extension.setup_problem(error)", "restart_required", "slicer.util.restart()",
                   "slicer.util.errorDisplay"):
        assert needed in handler, f"the setup error handler lacks {needed}"
    assert "ts_extension.version_warning()" in ast.unparse(setup), "no warning for an untested TotalSegmentator"
    run = function(tree, "onRunButton")
    assert first_line(run, "_setUpTotalSegmentator") < first_line(run, "autoSegmentChecked")


def test_long_work_disables_every_action_button(tree):
    ui_buttons = {w.get("name") for w in ET.parse(UI_FILE).getroot().iter("widget") if w.get("class") == "QPushButton"}
    actions = set(constant_names(tree, "ACTION_BUTTONS"))
    assert actions == ui_buttons - {"cancelButton"}, f"ACTION_BUTTONS differs from the .ui buttons: {actions ^ ui_buttons}"
    long_work = ast.unparse(function(tree, "_longWork"))
    assert "for name in ACTION_BUTTONS" in long_work and "self._busy = True" in long_work
    update = ast.unparse(function(tree, "_updateGUIState"))
    assert "if self._busy:" in update, "a parameter change during long work would re-enable the buttons"


def test_every_handler_that_processes_events_runs_as_long_work(tree):
    widget = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "OARContourWidget")
    handlers = [n for n in widget.body if isinstance(n, ast.FunctionDef) and n.name.startswith("on")
                and "self._progress" in ast.unparse(n)]
    assert len(handlers) >= 4, [h.name for h in handlers]
    for handler in handlers:
        withs = [n for n in ast.walk(handler) if isinstance(n, ast.With)]
        items = [ast.unparse(item.context_expr) for w in withs for item in w.items]
        assert "self._longWork()" in items, f"{handler.name} passes self._progress outside `with self._longWork()`"
