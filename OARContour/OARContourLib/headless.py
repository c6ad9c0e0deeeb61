"""A Slicer-like MRML context without the Slicer application, on the PyPI ``slicer-core`` wheel.

Outside Slicer there is no ``slicer.app``, ``slicer.modules`` or ``slicer.mrmlScene``. :func:`setup`
builds a scene with the application logic and the module logics that :class:`OARContourLogic`
and ``slicer.util`` need, and publishes them as ``slicer.mrmlScene`` and
``slicer.modules.<name>.logic()``, so the same Logic code runs in Slicer, in the CLI and in tests.

Inside the Slicer application the application provides all of this; :func:`setup` refuses to run.
"""

from __future__ import annotations

import contextlib
import logging
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError

logger = logging.getLogger(__name__)

INSTALL_HINT = "Install the headless extra: pip install 'oarcontour[headless]' (slicer-core and its pinned vtk)."

#: Module logics registered by :func:`setup`, by Slicer module name. Colors comes from the
#: application logic; "Colors" must be its name, otherwise volume loading logs "invalid Colors
#: module logic".
_MODULE_LOGIC_CLASSES = ("Volumes", "Terminologies", "Segmentations", "SubjectHierarchy")

#: File stems the Terminologies logic loads from its share folder on SetMRMLScene.
SLICER_DEFAULT_TERMINOLOGIES = (
    "SegmentationCategoryTypeModifier-SlicerGeneralAnatomy",
    "SegmentationCategoryTypeModifier-DICOM-Master",
    "AnatomicRegionAndModifier-DICOM-Master",
)


@dataclass
class HeadlessContext:
    """A scene and the logics that serve it; keep it alive as long as the scene is used.

    Module logics keep a raw pointer to ``application_logic``: if it were garbage-collected while
    the scene lives, the next volume or labelmap operation would crash the interpreter.
    """

    scene: Any
    application_logic: Any
    module_logics: dict[str, Any] = field(default_factory=dict)
    converter_rules: list[Any] = field(default_factory=list)
    closed: bool = False

    def logic(self, module_name: str) -> Any:
        """Return the logic of a Slicer module by name (``"Segmentations"``) or lower-case name."""
        for name, module_logic in self.module_logics.items():
            if module_name in (name, name.lower()):
                return module_logic
        raise KeyError(f"No module logic named {module_name!r}; available: {sorted(self.module_logics)}")

    def close(self) -> None:
        """Detach every logic from the scene, in an order that never leaves a dangling pointer."""
        if self.closed:
            return
        with _vtk_messages_suppressed():
            for name in reversed(list(self.module_logics)):
                self.module_logics[name].SetMRMLScene(None)
            self.application_logic.SetMRMLScene(None)
            _unregister_converter_rules(self.converter_rules)
        self.converter_rules = []
        self.closed = True


_active: HeadlessContext | None = None


def setup(terminology_dir: Path | None = None) -> HeadlessContext:
    """Create a fresh scene with its logics and make it ``slicer.mrmlScene``.

    Calling it again closes the previous context and replaces the scene, so each test can start
    from an empty scene (it takes about 0.01 s).

    Parameters
    ----------
    terminology_dir
        Folder with ``*.term.json`` files for the Terminologies logic: Slicer's default files by
        their usual names, and any other terminology (``AnatomicRegion*`` files as region
        contexts). The wheel ships none; without a folder no terminology is loaded (segments can
        still carry explicit terminology entries).

    Returns
    -------
    HeadlessContext
        The scene and logics. :mod:`OARContourLib.headless` also keeps a reference to it until the
        next :func:`setup` or :func:`teardown`.

    Raises
    ------
    InputError
        If slicer-core is not installed, if running inside the Slicer application, if
        ``terminology_dir`` is not a folder or one of its ``*.term.json`` files cannot be read.
    """
    global _active
    slicer = _import_slicer_core()
    if terminology_dir is not None and not Path(terminology_dir).is_dir():
        raise InputError(
            f"Terminology folder {terminology_dir} does not exist or is not a folder.",
            hint="Pass a folder that holds *.term.json files, or None.",
        )
    teardown()
    context = _build_context(slicer, terminology_dir)
    slicer.mrmlScene = context.scene
    slicer.modules = _modules_namespace(context)
    _active = context
    logger.debug("Headless MRML scene ready with logics: %s", ", ".join(context.module_logics))
    return context


def teardown() -> None:
    """Close the active context, if any, and remove ``slicer.mrmlScene`` and ``slicer.modules``."""
    global _active
    if _active is None:
        return
    _active.close()
    _active = None
    import slicer

    for name in ("mrmlScene", "modules"):
        if hasattr(slicer, name):
            delattr(slicer, name)


def active_context() -> HeadlessContext | None:
    """The context made by the last :func:`setup`, or None after :func:`teardown`."""
    return _active


def _import_slicer_core() -> Any:
    try:
        import slicer
    except ImportError as exc:
        raise InputError("The headless MRML scene needs slicer-core, which is not installed.", hint=INSTALL_HINT) from exc
    if hasattr(slicer, "app"):
        raise InputError(
            "headless.setup() was called inside the Slicer application.",
            hint="In Slicer use slicer.mrmlScene and slicer.modules directly; headless.setup() is for "
            "scripts, the CLI and tests.",
            code="HEADLESS_INSIDE_SLICER",
        )
    if not hasattr(slicer, "vtkMRMLScene"):
        # An unrelated PyPI package is also called "slicer".
        raise InputError(
            f"The installed 'slicer' package ({getattr(slicer, '__file__', '?')}) is not slicer-core.",
            hint=INSTALL_HINT,
        )
    return slicer


def _build_context(slicer: Any, terminology_dir: Path | None) -> HeadlessContext:
    from vtkmodules.vtkCommonCore import vtkCollection

    scene = slicer.vtkMRMLScene()
    crosshair = slicer.vtkMRMLCrosshairNode()
    crosshair.SetCrosshairName("default")
    scene.AddNode(crosshair)
    application_logic = slicer.vtkSlicerApplicationLogic()
    application_logic.SetMRMLScene(scene)
    application_logic.SetSliceLogics(vtkCollection())
    application_logic.SetViewLogics(vtkCollection())
    context = HeadlessContext(scene=scene, application_logic=application_logic)
    color_logic = application_logic.GetColorLogic()
    color_logic.SetMRMLScene(scene)  # adds the default color tables (Grey, GenericAnatomyColors...)
    application_logic.SetModuleLogic("Colors", color_logic)
    context.module_logics["Colors"] = color_logic
    try:
        for name in _MODULE_LOGIC_CLASSES:
            _add_module_logic(context, slicer, name, terminology_dir)
    except BaseException:
        context.close()  # detach what was built before the failure
        raise
    return context


def _add_module_logic(context: HeadlessContext, slicer: Any, name: str, terminology_dir: Path | None) -> None:
    classes = {
        "Volumes": slicer.vtkSlicerVolumesLogic,
        "Terminologies": slicer.vtkSlicerTerminologiesModuleLogic,
        "Segmentations": slicer.vtkSlicerSegmentationsModuleLogic,
        "SubjectHierarchy": slicer.vtkSlicerSubjectHierarchyModuleLogic,
    }
    module_logic = classes[name]()
    context.module_logics[name] = module_logic  # first, so that close() detaches it after a failure
    rules_before = _converter_rules(slicer)
    if name == "Terminologies":
        _set_terminology_scene(module_logic, context.scene, terminology_dir)
    else:
        # The Segmentations logic registers the converter rules here; without them AddEmptySegment
        # fails with "Unable to construct empty representation type 'Binary labelmap'".
        module_logic.SetMRMLScene(context.scene)
    module_logic.SetMRMLApplicationLogic(context.application_logic)
    context.application_logic.SetModuleLogic(name, module_logic)
    # Each Segmentations logic registers the rules in a process-wide factory again; remember ours
    # so that close() removes them and repeated setup() calls do not pile up duplicates.
    context.converter_rules.extend(rule for rule in _converter_rules(slicer) if rule not in rules_before)


def _set_terminology_scene(module_logic: Any, scene: Any, terminology_dir: Path | None) -> None:
    if terminology_dir is not None:
        module_logic.SetModuleShareDirectory(str(terminology_dir))  # must precede SetMRMLScene
    has_defaults = terminology_dir is not None and all(
        (Path(terminology_dir) / f"{name}.term.json").is_file() for name in SLICER_DEFAULT_TERMINOLOGIES)
    # SetMRMLScene loads Slicer's default terminologies from the share folder and logs one error
    # per missing file; the wheel ships none, so missing ones are expected unless a folder has them.
    with contextlib.ExitStack() as stack:
        if not has_defaults:
            stack.enter_context(_vtk_messages_suppressed())
        module_logic.SetMRMLScene(scene)
    if terminology_dir is not None:
        _load_extra_terminologies(module_logic, Path(terminology_dir))


def _load_extra_terminologies(module_logic: Any, folder: Path) -> None:
    """Load every other ``*.term.json`` in the folder (region contexts by their file name)."""
    for path in sorted(folder.glob("*.term.json")):
        name = path.name[: -len(".term.json")]
        if name in SLICER_DEFAULT_TERMINOLOGIES:
            continue
        if name.startswith("AnatomicRegion"):
            loaded = module_logic.LoadRegionContextFromFile(str(path))
        else:
            loaded = module_logic.LoadTerminologyFromFile(str(path))
        if not loaded:
            raise InputError(f"Terminology file {path.name} in {folder} could not be read.",
                             hint="Check that it is a Slicer terminology JSON file (*.term.json).")
        logger.debug("Loaded terminology %r from %s", loaded, path.name)


def _converter_rules(slicer: Any) -> list[Any]:
    return list(slicer.vtkSegmentationConverterFactory.GetInstance().GetConverterRules())


def _unregister_converter_rules(rules: list[Any]) -> None:
    import slicer

    factory = slicer.vtkSegmentationConverterFactory.GetInstance()
    for rule in rules:
        factory.UnregisterConverterRule(rule)


def _modules_namespace(context: HeadlessContext) -> types.SimpleNamespace:
    """``slicer.modules`` look-alike: ``slicer.modules.segmentations.logic()`` and so on."""
    modules = {
        name.lower(): types.SimpleNamespace(name=name, logic=lambda module_logic=module_logic: module_logic)
        for name, module_logic in context.module_logics.items()
    }
    return types.SimpleNamespace(**modules)


@contextlib.contextmanager
def _vtk_messages_suppressed() -> Iterator[None]:
    from vtkmodules.vtkCommonCore import vtkObject

    previous = vtkObject.GetGlobalWarningDisplay()
    vtkObject.GlobalWarningDisplayOff()
    try:
        yield
    finally:
        vtkObject.SetGlobalWarningDisplay(previous)
