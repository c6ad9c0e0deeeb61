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
    "QLabel": {"str"},
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
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)
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
