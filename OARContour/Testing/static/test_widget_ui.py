"""Static checks that the module file and its Qt Designer file agree (no Slicer, no Qt).

A widget name typed wrong in ``OARContour.py`` or a ``SlicerParameterName`` that names no
parameter-node field fails only when a user opens the panel in Slicer; these tests catch it here.
"""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
MODULE_FILE = REPO_ROOT / "OARContour" / "OARContour.py"
UI_FILE = REPO_ROOT / "OARContour" / "Resources" / "UI" / "OARContour.ui"

ROOT_WIDGET = "OARContour"
# Widget class -> parameter types its parameterNodeWrapper GUI connector accepts. Extend it when the
# panel gains a new kind of bound widget.
CONNECTABLE_TYPES = {
    "ctkPathLineEdit": {"pathlib.Path", "Path"},
    "ctkDirectoryButton": {"pathlib.Path", "Path"},
    "QLineEdit": {"str"},
    "QCheckBox": {"bool"},
    "QSpinBox": {"int"},
    "QSlider": {"int"},
    "QDoubleSpinBox": {"float", "int"},
    "ctkSliderWidget": {"float", "int"},
    "QComboBox": {"str", "int", "float", "enum"},
}
# Classes Qt Designer knows without a <customwidget> declaration.
_QT_PREFIX = "Q"


@pytest.fixture(scope="module")
def ui_root() -> ET.Element:
    # ET.parse raises on a file that is not well-formed XML.
    return ET.parse(UI_FILE).getroot()


@pytest.fixture(scope="module")
def module_tree() -> ast.Module:
    return ast.parse(MODULE_FILE.read_text(encoding="utf-8"), filename=str(MODULE_FILE))


def ui_widgets(root: ET.Element) -> dict[str, str]:
    """Widget name -> class for every widget in the .ui file."""
    return {widget.get("name"): widget.get("class") for widget in root.iter("widget")}


def bound_parameters(root: ET.Element) -> dict[str, tuple[str, str]]:
    """SlicerParameterName -> (widget name, widget class)."""
    bound = {}
    for widget in root.iter("widget"):
        for prop in widget.findall("property[@name='SlicerParameterName']"):
            bound[prop.findtext("string")] = (widget.get("name"), widget.get("class"))
    return bound


def ui_attributes_used(tree: ast.Module) -> set[str]:
    """Names ``<x>`` of every ``self.ui.<x>`` in the module file."""
    return {
        node.attr for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
        and node.value.attr == "ui" and isinstance(node.value.value, ast.Name) and node.value.value.id == "self"
    }


def _is_parameter_node_wrapper(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return (isinstance(target, ast.Name) and target.id == "parameterNodeWrapper") or (
        isinstance(target, ast.Attribute) and target.attr == "parameterNodeWrapper")


def _base_type(annotation: ast.expr) -> str:
    """The type a field holds, with ``Annotated[...]`` and ``Optional[...]`` removed."""
    if isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value).split(".")[-1] in ("Annotated", "Optional"):
        inner = annotation.slice
        first = inner.elts[0] if isinstance(inner, ast.Tuple) else inner
        return _base_type(first)
    return ast.unparse(annotation)


def parameter_fields(tree: ast.Module) -> dict[str, str]:
    """Field name -> base type of the single ``@parameterNodeWrapper`` class."""
    # Defined inside parameterNodeClass(): its Choice lists are read on first use, not at import.
    classes = [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
               and any(_is_parameter_node_wrapper(d) for d in node.decorator_list)]
    assert len(classes) == 1, f"{MODULE_FILE.name} must define exactly one @parameterNodeWrapper class"
    return {
        statement.target.id: _base_type(statement.annotation)
        for statement in classes[0].body
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
    }


def enum_names(tree: ast.Module) -> set[str]:
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
            and any(ast.unparse(base).split(".")[-1] in ("Enum", "IntEnum", "StrEnum") for base in node.bases)}


def test_ui_root_is_the_module_widget(ui_root):
    assert ui_root.tag == "ui"
    assert ui_root.findtext("class") == ROOT_WIDGET
    top = ui_root.find("widget")
    assert top is not None and top.get("class") == "qMRMLWidget" and top.get("name") == ROOT_WIDGET


def test_widget_names_are_unique(ui_root):
    names = [widget.get("name") for widget in ui_root.iter("widget")]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    # childWidgetVariables() keeps only one widget per name.
    assert not duplicates, f"{UI_FILE.name} reuses widget names: {duplicates}"


def test_every_self_ui_name_exists_in_the_ui_file(ui_root, module_tree):
    used = ui_attributes_used(module_tree)
    assert used, f"{MODULE_FILE.name} uses no self.ui.<widget>; the parser or the module is broken"
    missing = sorted(used - ui_widgets(ui_root).keys())
    assert not missing, f"{MODULE_FILE.name} uses self.ui.{missing} but {UI_FILE.name} has no such widget"


def test_every_slicer_parameter_name_is_a_parameter_node_field(ui_root, module_tree):
    bound = bound_parameters(ui_root)
    assert bound, f"{UI_FILE.name} binds no widget through SlicerParameterName"
    unknown = sorted(set(bound) - parameter_fields(module_tree).keys())
    assert not unknown, (
        f"{UI_FILE.name} binds SlicerParameterName {unknown}, which the parameter node class in "
        f"{MODULE_FILE.name} does not declare")


def test_every_parameter_node_field_is_bound_to_a_widget(ui_root, module_tree):
    unbound = sorted(parameter_fields(module_tree).keys() - bound_parameters(ui_root).keys())
    assert not unbound, f"parameter node fields {unbound} are bound to no widget in {UI_FILE.name}"


def test_bound_widgets_can_represent_their_field_type(ui_root, module_tree):
    fields = parameter_fields(module_tree)
    enums = enum_names(module_tree)
    errors = []
    for name, (widget, widget_class) in bound_parameters(ui_root).items():
        field_type = fields.get(name)
        if field_type is None:
            continue  # reported by the test above
        if widget_class == "qMRMLNodeComboBox":
            ok = field_type.split(".")[-1].startswith("vtkMRML")
        else:
            accepted = CONNECTABLE_TYPES.get(widget_class, set())
            ok = field_type in accepted or ("enum" in accepted and field_type in enums)
        if not ok:
            errors.append(f"{widget} ({widget_class}) cannot show field {name}: {field_type}")
    assert not errors, "connectGui() would find no connector:\n" + "\n".join(errors)


def test_custom_widget_classes_are_declared(ui_root):
    declared = {custom.findtext("class"): custom for custom in ui_root.iter("customwidget")}
    used = set(ui_widgets(ui_root).values())
    undeclared = sorted(cls for cls in used if not cls.startswith(_QT_PREFIX) and cls not in declared)
    assert not undeclared, f"{UI_FILE.name} uses {undeclared} without a <customwidget> declaration"
    headerless = sorted(cls for cls, custom in declared.items() if not custom.findtext("header"))
    assert not headerless, f"custom widgets without <header>: {headerless}"


def test_mrml_widgets_receive_the_scene(ui_root):
    # Without this connection a node selector stays empty even after setMRMLScene on the panel.
    connected = {
        connection.findtext("receiver") for connection in ui_root.iter("connection")
        if connection.findtext("sender") == ROOT_WIDGET
        and connection.findtext("signal") == "mrmlSceneChanged(vtkMRMLScene*)"
        and connection.findtext("slot") == "setMRMLScene(vtkMRMLScene*)"
    }
    mrml_widgets = {name for name, cls in ui_widgets(ui_root).items() if cls.startswith("qMRML") and name != ROOT_WIDGET}
    assert mrml_widgets, f"{UI_FILE.name} has no MRML widget; expected at least the CT volume selector"
    missing = sorted(mrml_widgets - connected)
    assert not missing, f"{UI_FILE.name} lacks mrmlSceneChanged -> setMRMLScene connections to {missing}"


def test_node_selectors_list_the_field_node_type(ui_root, module_tree):
    fields = parameter_fields(module_tree)
    for name, (widget, widget_class) in bound_parameters(ui_root).items():
        if widget_class != "qMRMLNodeComboBox" or name not in fields:
            continue
        element = next(w for w in ui_root.iter("widget") if w.get("name") == widget)
        node_types = [s.text for s in element.findall("property[@name='nodeTypes']/stringlist/string")]
        assert node_types == [fields[name].split(".")[-1]], (
            f"{widget} nodeTypes {node_types} differ from the type of field {name} ({fields[name]})")


# --- panel sections, handlers, presets and remembered settings -----------------------------------

SECTION_TITLES = ("Patient CT", "Auto-contour", "Edit", "Names", "Check", "Export", "Compare", "Service")
# Widget-name suffix -> classes such a widget may be (catches e.g. a QLabel named ...Button).
NAME_SUFFIX_CLASSES = {
    "Button": {"QPushButton", "QToolButton", "ctkCollapsibleButton"},
    "ComboBox": {"QComboBox", "ctkComboBox"},
    "Selector": {"qMRMLNodeComboBox"},
    "Label": {"QLabel"},
    "LineEdit": {"QLineEdit", "ctkPathLineEdit"},
    "TableWidget": {"QTableWidget"},
    "ListWidget": {"QListWidget"},
    "SpinBox": {"QSpinBox", "QDoubleSpinBox"},
    "CheckBox": {"QCheckBox"},
    "ProgressBar": {"QProgressBar"},
    "EditorWidget": {"qMRMLSegmentEditorWidget"},
}


def module_constant(tree: ast.Module, name: str):
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{MODULE_FILE.name} defines no module constant {name}")


def widget_methods(tree: ast.Module) -> set[str]:
    widget = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "OARContourWidget")
    return {n.name for n in widget.body if isinstance(n, ast.FunctionDef)}


def function(tree: ast.Module, name: str) -> ast.FunctionDef:
    found = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name]
    assert found, f"{MODULE_FILE.name} has no function {name}"
    return found[0]


def test_sections_are_top_level_collapsible_buttons_in_the_issue_order(ui_root):
    main_layout = ui_root.find("widget/layout")
    sections = [w for w in main_layout.findall("item/widget") if w.get("class") == "ctkCollapsibleButton"]
    titles = [w.findtext("property[@name='text']/string") for w in sections]
    expected = [f"{number}. {title}" for number, title in enumerate(SECTION_TITLES, start=1)]
    assert titles == expected, f"{UI_FILE.name} sections are {titles}, expected {expected}"


def test_self_ui_widgets_have_a_plausible_class(ui_root, module_tree):
    widgets = ui_widgets(ui_root)
    names = ui_attributes_used(module_tree) | set(module_constant(module_tree, "WINDOW_PRESET_BUTTONS")) | set(
        module_constant(module_tree, "THRESHOLD_PRESET_BUTTONS")) | set(module_constant(module_tree, "EFFECT_PRESET_BUTTONS"))
    wrong = []
    for name in sorted(names & widgets.keys()):
        for suffix, classes in NAME_SUFFIX_CLASSES.items():
            if name.endswith(suffix) and widgets[name] not in classes:
                wrong.append(f"{name} is a {widgets[name]}, expected one of {sorted(classes)}")
    assert not wrong, "\n".join(wrong)


def test_preset_buttons_exist_and_name_logic_presets(ui_root, module_tree):
    from OARContourLib.logic.editor_presets import effect_presets, intensity_presets

    widgets = ui_widgets(ui_root)
    for constant, known in (("WINDOW_PRESET_BUTTONS", intensity_presets()), ("THRESHOLD_PRESET_BUTTONS", intensity_presets()),
                            ("EFFECT_PRESET_BUTTONS", effect_presets())):
        buttons = module_constant(module_tree, constant)
        assert buttons, f"{constant} is empty"
        missing = sorted(name for name in buttons if widgets.get(name) != "QPushButton")
        assert not missing, f"{constant} names {missing}, which are not QPushButtons in {UI_FILE.name}"
        unknown = sorted(set(buttons.values()) - {p.id for p in known})
        assert not unknown, f"{constant} uses preset ids {unknown} that the Logic does not define"


def test_every_connected_handler_is_a_widget_method(module_tree):
    methods = widget_methods(module_tree)
    connects = [n for n in ast.walk(module_tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                and n.func.attr == "connect" and len(n.args) == 2]
    assert len(connects) >= 10, "the panel connects fewer signals than it has buttons; the parser is broken"
    handlers = {ref.attr for call in connects for ref in ast.walk(call.args[1])
                if isinstance(ref, ast.Attribute) and isinstance(ref.value, ast.Name) and ref.value.id == "self"}
    assert handlers, "no self.<handler> found in connect() calls"
    missing = sorted(handlers - methods)
    assert not missing, f"connect() names handlers {missing} that OARContourWidget does not define"


def test_signals_named_in_connect_exist_on_the_widget_class(ui_root, module_tree):
    # PythonQt ignores an unknown signature silently at connect time: the button then does nothing.
    known = {"QPushButton": {"clicked(bool)", "clicked()", "toggled(bool)"},
             "QTableWidget": {"itemChanged(QTableWidgetItem*)", "cellClicked(int,int)", "cellDoubleClicked(int,int)"}}
    widgets = ui_widgets(ui_root)
    problems = []
    for call in (n for n in ast.walk(module_tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                 and n.func.attr == "connect" and len(n.args) == 2 and isinstance(n.args[0], ast.Constant)):
        owner = call.func.value
        name = owner.attr if isinstance(owner, ast.Attribute) and ast.unparse(owner).startswith("self.ui.") else None
        signal = call.args[0].value
        if name and widgets.get(name) in known and signal not in known[widgets[name]]:
            problems.append(f"{name} ({widgets[name]}) has no signal {signal}")
    assert not problems, "\n".join(problems)


def test_combo_boxes_bound_to_plain_values_declare_their_choices(ui_root, module_tree):
    # Slicer's QComboBox connector for str/int/float fills the box from a Choice annotation and
    # raises without one.
    fields = parameter_fields(module_tree)
    node_class = next(n for n in ast.walk(module_tree) if isinstance(n, ast.ClassDef) and n.name == "OARContourParameterNode")
    annotations = {s.target.id: ast.unparse(s.annotation) for s in node_class.body if isinstance(s, ast.AnnAssign)}
    combos = [name for name, (_, cls) in bound_parameters(ui_root).items() if cls == "QComboBox"]
    assert combos, f"{UI_FILE.name} binds no combo box; expected engine, template, tps and exportEngine"
    missing = sorted(n for n in combos if fields[n] not in enum_names(module_tree) and "Choice(" not in annotations[n])
    assert not missing, f"fields {missing} are bound to QComboBoxes but have no Annotated[..., Choice(...)]"


def test_remembered_settings_are_read_and_written_with_the_same_keys(module_tree):
    remembered = module_constant(module_tree, "REMEMBERED_FIELDS")
    prefix = module_constant(module_tree, "SETTINGS_PREFIX")
    assert prefix == "OARContour/"
    assert set(remembered) >= {"engine", "template", "tps", "exportFolder", "exportEngine", "structureSetLabel"}
    unknown = sorted(set(remembered) - parameter_fields(module_tree).keys())
    assert not unknown, f"REMEMBERED_FIELDS names {unknown}, which are not parameter node fields"

    def keys(function_name: str, method: str) -> set[str]:
        calls = [n for n in ast.walk(function(module_tree, function_name)) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Attribute) and n.func.attr == method]
        assert calls, f"{function_name} makes no settings.{method}() call"
        loops = [n for n in ast.walk(function(module_tree, function_name)) if isinstance(n, ast.For)]
        assert any(ast.unparse(loop.iter) == "REMEMBERED_FIELDS" for loop in loops), (
            f"{function_name} must loop over REMEMBERED_FIELDS")
        return {ast.unparse(call.args[0]) for call in calls}

    read, written = keys("_restoreChoices", "value"), keys("_rememberChoices", "setValue")
    assert read == written == {"SETTINGS_PREFIX + field"}, f"settings read with {read} but written with {written}"
    # No stray literal keys elsewhere: every literal "OARContour/..." key would escape the check above.
    literals = [n.value for n in ast.walk(module_tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                and n.value.startswith("OARContour/")]
    assert literals == ["OARContour/"], f"literal settings keys outside REMEMBERED_FIELDS: {literals}"


def test_segment_editor_is_embedded_and_gets_the_panel_node(ui_root, module_tree):
    assert "qMRMLSegmentEditorWidget" in ui_widgets(ui_root).values()
    setup = function(module_tree, "setup")
    calls = {ast.unparse(n.func) for n in ast.walk(setup) if isinstance(n, ast.Call)}
    assert "self.ui.segmentEditorWidget.setMRMLSegmentEditorNode" in calls, (
        "setup() must give the Segment Editor the Logic's node (overwrite none)")


def test_long_work_reports_progress_and_can_be_cancelled(module_tree):
    progress = function(module_tree, "_progress")
    text = ast.unparse(progress)
    assert "slicer.app.processEvents()" in text and "return self._cancelRequested" in text
    run = ast.unparse(function(module_tree, "onRunButton"))
    assert "progress=self._progress" in run, "Run must pass the progress callback to the Logic"
