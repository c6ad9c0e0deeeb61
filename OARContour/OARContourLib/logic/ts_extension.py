"""Run TotalSegmentator through the SlicerTotalSegmentator extension, when Slicer has it.

Inside Slicer the extension already manages TotalSegmentator's Python packages and weights, so the
Logic prefers it to a child process of its own. Its ``TotalSegmentatorLogic.process`` changed
signature over the years (``fast=``/``fastest=`` became ``quality=``), so it is called with keyword
arguments only, chosen by :func:`inspect.signature`. Its output segments are keyed on their segment
IDs, which are TotalSegmentator class names (display names are terminology labels that vary), and
mapped to TG-263 by the same code as the file importer.

The extension runs TotalSegmentator as a child process and blocks on its output until it ends; only
its ``logCallback`` runs meanwhile. A fresh ``TotalSegmentatorLogic`` has none, so the Logic sets
one that forwards each line to the progress callback (the panel's processes events and shows the
line), otherwise Slicer would freeze for the whole run. The extension cannot stop its child, so
Cancel takes effect when the current task ends.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import logging
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import slicer

from ..autoseg.result import AutosegResult, description_for
from ..autoseg.totalsegmentator_outputs import structures_from_classes
from ..autoseg.ts_engine import ENGINE, TSRequest, outcome, plan_for, planned_only, run_record
from ..autoseg.ts_model import PINNED_VERSION, ROI_SUBSET_TASKS, TSTaskRun
from ..autoseg.ts_preflight import version_findings
from ..errors import EngineError, InputError
from ..findings import Finding
from ..mask_grid import MaskInput
from ..progress import ProgressCallback, report
from ..rtstruct.model import Structure
from ..startup import install_command
from . import segmentation_nodes

logger = logging.getLogger(__name__)

#: ``quality`` values of the current extension; older ones take ``fast=`` (and ``fastest=``).
QUALITY_NORMAL, QUALITY_FAST = "normal", "fast"
UPDATE_HINT = "Update the TotalSegmentator extension in the Extensions Manager, or use the OARContour engine."
WHERE = "Slicer's Python (TotalSegmentator extension)"


@dataclass(frozen=True)
class SetupProblem:
    """Why the extension's ``setupPythonRequirements`` failed, in words, and whether a restart fixes it."""

    message: str
    hint: str
    restart_required: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "hint": self.hint, "restart_required": self.restart_required}


def setup_problem(error: BaseException) -> SetupProblem:
    """Turn what ``setupPythonRequirements`` raised into a message for a dialog.

    The extension raises ``InstallError(message, restartRequired=False)`` for missing extensions
    (PyTorch, NNUNet) or a cancelled install, and lets ``ModuleNotFoundError`` through from pip
    installs that did not take effect; both need a person to act, often a restart.
    """
    restart = bool(getattr(error, "restartRequired", False))
    if isinstance(error, ModuleNotFoundError):
        name = error.name or str(error)
        return SetupProblem(f"TotalSegmentator cannot start: the Python package '{name}' is not available.",
                            "Restart Slicer (packages installed in this session load only after a restart); if "
                            "it persists, open the TotalSegmentator module once and press Apply to install "
                            "its packages.", restart_required=True)
    if type(error).__name__ == "InstallError":
        hint = ("Restart Slicer to finish installing TotalSegmentator's packages." if restart else
                "Install the missing extensions from the Extensions Manager, restart Slicer and run again; or use "
                "the OARContour (classical) engine.")
        return SetupProblem(f"TotalSegmentator could not be set up: {error}", hint, restart)
    return SetupProblem(f"TotalSegmentator could not be set up: {type(error).__name__}: {error}",
                        "See the Python console for details, or use the OARContour (classical) engine.", restart)


def version_warning() -> str:
    """A sentence when the installed TotalSegmentator is not the release our class map was checked
    against (the extension installs its own pinned release); ``""`` when it is."""
    findings = version_findings(_installed_version(), WHERE, install_command(f"TotalSegmentator=={PINNED_VERSION}"))
    return " ".join(f"{f.message} {f.hint}" for f in findings)


def extension_available() -> bool:
    """True inside a Slicer that has the TotalSegmentator extension (never in the headless core)."""
    modules = getattr(slicer, "modules", None)
    return modules is not None and hasattr(modules, "totalsegmentator")


def process_arguments(process: Callable[..., Any], *, task: str, subset: tuple[str, ...] | None, fast: bool,
                      cpu: bool) -> dict[str, Any]:
    """Keyword arguments for this extension version's ``process`` (besides the input and output nodes).

    Raises
    ------
    InputError
        The extension's ``process`` cannot run ``task`` (a version without ``task=``).
    """
    parameters = inspect.signature(process).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    wanted: dict[str, Any] = {"task": task, "cpu": cpu, "interactive": False}
    if subset:
        wanted["subset"] = list(subset)
    if "quality" in parameters:
        wanted["quality"] = QUALITY_FAST if fast else QUALITY_NORMAL
    else:
        wanted["fast"] = fast
        if "fastest" in parameters:
            wanted["fastest"] = False
    if "task" not in parameters and not takes_any and task != "total":
        raise InputError(f"This TotalSegmentator extension cannot run task '{task}'.", hint=UPDATE_HINT)
    return wanted if takes_any else {name: value for name, value in wanted.items() if name in parameters}


def structures_from_segmentation(segmentation_node: Any, ct_node: Any, task: str, description: str,
                                 ) -> tuple[dict[str, Structure], dict[str, str], list[Finding]]:
    """TG-263 structures from a TotalSegmentator segmentation node, keyed on segment IDs (class names)."""
    by_class = {segment_id: MaskInput(segment_id, found.block, found.offset_kji)
                for segment_id, found in segmentation_nodes.segment_blocks(segmentation_node, ct_node).items()
                if found.voxels}
    shape = tuple(int(n) for n in reversed(ct_node.GetImageData().GetDimensions()))
    return structures_from_classes(by_class, task, shape, description)  # type: ignore[arg-type]


def segment_with_extension(ct_node: Any, request: TSRequest, *, ts_logic: Any = None,
                           progress: ProgressCallback | None = None) -> AutosegResult:
    """Run each planned task through the extension and return the TG-263 structures on the CT grid.

    Parameters
    ----------
    ct_node
        The CT volume node the extension segments; the structures are on its grid.
    request
        Wanted and skipped names, device and speed (see :mod:`OARContourLib.autoseg.ts_engine`).
    ts_logic
        A ``TotalSegmentatorLogic``; default: a new one from the extension.

    Raises
    ------
    InputError
        The extension is too old for a planned task.
    EngineError
        The extension's ``process`` failed.
    CancelledError
        ``progress`` asked to stop (checked between tasks).
    """
    started = time.perf_counter()
    ts_logic = ts_logic if ts_logic is not None else _extension_logic()
    plan = plan_for(request)
    version = _installed_version()
    made: dict[str, Structure] = {}
    findings: list[Finding] = version_findings(version, WHERE, install_command(f"TotalSegmentator=={PINNED_VERSION}"))
    runs: list[dict[str, Any]] = []
    for index, run in enumerate(plan.runs):
        fraction = index / max(len(plan.runs), 1)
        report(progress, fraction, f"TotalSegmentator extension: task {run.task}")
        run_started = time.perf_counter()
        with forwarded_log(ts_logic, progress, fraction, run.task):
            structures, partial = _run_one(ts_logic, ct_node, run, request.device, version)
        made.update(structures)
        findings += partial
        runs.append(run_record(run, time.perf_counter() - run_started))
    produced, skipped = outcome(request, plan, made)
    report(progress, 1.0, "TotalSegmentator extension done")
    provenance = {"engine": ENGINE, "version": version, "python": "Slicer TotalSegmentator extension",
                  "device": request.device, "fast": request.fast, "template": request.template, "runs": runs,
                  "seconds": round(time.perf_counter() - started, 3)}
    logger.info("TotalSegmentator extension produced %d structure(s) for '%s'.", len(produced), ct_node.GetName())
    return AutosegResult(produced, skipped, provenance, tuple(findings))


@contextmanager
def forwarded_log(ts_logic: Any, progress: ProgressCallback | None, fraction: float, task: str) -> Iterator[None]:
    """While the block runs, send each line the extension logs to ``progress`` (or let Slicer paint).

    The callback set before is restored afterwards. A cancel request cannot stop the extension's
    child process; it is honoured by the check before the next task (the panel keeps answering True).
    """
    previous = getattr(ts_logic, "logCallback", None)

    def forward(text: str) -> None:
        message = f"TotalSegmentator ({task}): {str(text).strip()}"
        if progress is not None:
            if progress(fraction, message):
                logger.info("Cancel requested: TotalSegmentator stops after task %s.", task)
        else:
            _process_events()

    ts_logic.logCallback = forward
    try:
        yield
    finally:
        ts_logic.logCallback = previous


def _process_events() -> None:
    # Without a progress callback (a script in Slicer's console) still let the application paint.
    app = getattr(slicer, "app", None)
    if app is not None:
        app.processEvents()


def _run_one(ts_logic: Any, ct_node: Any, run: TSTaskRun, device: str, version: str,
             ) -> tuple[dict[str, Structure], list[Finding]]:
    """One task into a scratch segmentation node, read back and removed from the scene."""
    scene = ct_node.GetScene()
    output = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", f"{ct_node.GetName()} TotalSegmentator {run.task}")
    try:
        arguments = process_arguments(ts_logic.process, task=run.task, fast=run.fast, cpu=device == "cpu",
                                      subset=run.roi_subset if run.task in ROI_SUBSET_TASKS else None)
        try:
            ts_logic.process(inputVolume=ct_node, outputSegmentation=output, **arguments)
        except (RuntimeError, ValueError, OSError, subprocess.CalledProcessError) as error:  # how it reports failures
            raise EngineError(f"The TotalSegmentator extension failed on task {run.task}: {error}",
                              hint="See the Python console for TotalSegmentator's output.") from error
        made, _, partial = structures_from_segmentation(output, ct_node, run.task,
                                                        description_for(ENGINE, version, run.task))
    finally:
        scene.RemoveNode(output)
    return planned_only(run, made, partial)


def _extension_logic() -> Any:
    import TotalSegmentator  # the extension's module; present whenever extension_available()

    return TotalSegmentator.TotalSegmentatorLogic()


def _installed_version() -> str:
    try:
        return importlib.metadata.version("TotalSegmentator")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
