"""Everything that would stop a TotalSegmentator run, found before any work starts.

:func:`run_preflight` turns a plan, the probed installation and the CT into findings, each with a
hint that says what to do: install the package, copy weights (the head-and-neck tasks also need the
low-resolution ``total`` model they crop with), set a licence, choose another device, free memory.
Errors block the run (:meth:`PreflightReport.raise_for_errors`); warnings are shown and the run goes on.
"""

from __future__ import annotations

import logging
import re

from ..ct.model import CTVolume
from ..errors import InputError
from ..findings import Finding, Severity
from .ts_memory import available_memory_bytes, estimate_memory_bytes
from .ts_model import PINNED_VERSION, PreflightReport, TSEnvironment, TSPlan, TSTaskRun, TSTaskStatus

logger = logging.getLogger(__name__)

TS_NOT_INSTALLED = "TS_NOT_INSTALLED"
TS_VERSION = "TS_VERSION"
TS_CONFIG_INVALID = "TS_CONFIG_INVALID"
TS_TASK_UNKNOWN = "TS_TASK_UNKNOWN"
TS_WEIGHTS_MISSING = "TS_WEIGHTS_MISSING"
TS_LICENSE_MISSING = "TS_LICENSE_MISSING"
TS_FAST_NOT_ALLOWED = "TS_FAST_NOT_ALLOWED"
TS_DEVICE = "TS_DEVICE"
TS_MEMORY = "TS_MEMORY"
TS_USAGE_STATS = "TS_USAGE_STATS"

DEVICES = ("auto", "cpu", "gpu", "mps")
LICENSE_URL = "https://backend.totalsegmentator.com/license-academic/"
INSTALL_HINT = ('Run `pip install "oarcontour[totalsegmentator]"` in that interpreter, or set OARCONTOUR_TS_PYTHON '
                "(--ts-python) to one where it is installed; or use --engine classical, or import an existing "
                "output with --import-ts PATH.")
#: ``totalseg_download_weights -t`` task that fetches each cropping model (TS 2.18 ``TASK_TO_ID``).
CROP_DOWNLOAD_TASKS = {"Dataset297_": "total_fast", "Dataset298_": "total_fast", "Dataset300_": "body_fast",
                       "Dataset852_": "total_fast_mr"}
#: Cropping models a task's own download already brings (``-t total`` fetches the 6 mm model too).
DOWNLOAD_INCLUDES = {"total": ("Dataset298_",), "total_fast": ("Dataset297_", "Dataset298_"),
                     "total_fast_mr": ("Dataset852_", "Dataset853_")}
#: ``totalseg_download_weights -t`` task for the fast models of the tasks that have one.
FAST_DOWNLOAD_TASKS = {"total": "total_fast", "total_mr": "total_fast_mr", "body": "body_fast"}
PIN_COMMAND = f'pip install "TotalSegmentator=={PINNED_VERSION}"'
GB = 1e9


def run_preflight(plan: TSPlan, environment: TSEnvironment, ct: CTVolume, *, device: str = "auto",
                  available_memory: int | None = None) -> PreflightReport:
    """Check that TotalSegmentator can run ``plan`` on ``ct`` with this installation and device.

    Parameters
    ----------
    plan
        The runs from :func:`.ts_plan.plan_tasks`.
    environment
        The installation from :func:`.ts_probe.probe_environment` (probed for the plan's runs).
    ct
        The CT to segment (its grid sizes the memory estimate).
    device
        ``"auto"`` (GPU when CUDA is available, else CPU), ``"cpu"``, ``"gpu"``, ``"gpu:N"`` or ``"mps"``.
    available_memory
        Free memory in bytes; default measured now (:func:`.ts_memory.available_memory_bytes`).

    Returns
    -------
    PreflightReport
        Findings (codes ``TS_*``), the resolved device and the memory figures.

    Raises
    ------
    InputError
        ``device`` is not one of the values above.
    """
    resolved = _resolve_device(device, environment)
    if not environment.installed:
        finding = Finding(TS_NOT_INSTALLED, Severity.ERROR,
                          f"TotalSegmentator is not installed in {environment.python}.", hint=INSTALL_HINT)
        return PreflightReport(environment, (finding,), resolved)
    findings = [*_version_findings(environment), *_config_findings(environment)]
    for run in plan.runs:
        findings.extend(_run_findings(run, environment))
    findings.extend(_device_findings(device, resolved, environment))
    needed = estimate_memory_bytes(ct.geometry.shape, ct.geometry.spacing_mm[::-1], plan.runs, False)
    available = available_memory if available_memory is not None else available_memory_bytes()
    findings.extend(_memory_findings(plan, ct, needed, available))
    if environment.usage_stats_enabled and environment.config_error is None:
        findings.append(Finding(TS_USAGE_STATS, Severity.WARNING,
                                "TotalSegmentator would send usage statistics "
                                f"({environment.home_dir / 'config.json'}); they will be switched off before the run.",
                                hint="Nothing to do: OARContour sets \"send_usage_stats\": false first."))
    logger.info("TotalSegmentator preflight: %d finding(s), device %s, %.1f GB needed", len(findings), resolved,
                needed / GB)
    return PreflightReport(environment, tuple(findings), resolved, needed, available)


def _resolve_device(device: str, environment: TSEnvironment) -> str:
    kind = device.split(":", 1)[0]
    if kind not in DEVICES or (":" in device and (kind != "gpu" or not device.split(":", 1)[1].isdigit())):
        raise InputError(f"Unknown device '{device}'.", hint="Use auto, cpu, gpu, gpu:N or mps.")
    if kind == "auto":
        return "gpu" if environment.cuda_available else "cpu"
    return kind


def _version_findings(environment: TSEnvironment) -> list[Finding]:
    return version_findings(environment.version or "", environment.python, f"{PIN_COMMAND} in {environment.python}")


def version_findings(version: str, where: str, pin_command: str = PIN_COMMAND) -> list[Finding]:
    """A finding when TotalSegmentator ``version`` (installed in ``where``) is not the tested one.

    An error below 2.x, a warning for another release (class names may differ) or an unreadable
    version; nothing for :data:`PINNED_VERSION`'s minor release. ``pin_command`` installs that one.
    """
    found = re.match(r"(\d+)\.(\d+)", version)
    pinned = PINNED_VERSION.split(".")[:2]
    if found is None:
        return [Finding(TS_VERSION, Severity.WARNING,
                        f"The TotalSegmentator version in {where} is unknown ('{version}').",
                        hint=f"OARContour was checked against {PINNED_VERSION}: {pin_command}.")]
    if int(found.group(1)) < 2:
        return [Finding(TS_VERSION, Severity.ERROR,
                        f"TotalSegmentator {version} is too old: OARContour needs 2.x "
                        f"(checked against {PINNED_VERSION}).",
                        hint=f"{pin_command}.")]
    if list(found.groups()) != pinned:
        return [Finding(TS_VERSION, Severity.WARNING,
                        f"TotalSegmentator {version} differs from {PINNED_VERSION}, which OARContour was checked "
                        "against: class names may differ and structures may be missing or mis-named.",
                        hint=f"Review the results, or {pin_command}.")]
    return []


def _config_findings(environment: TSEnvironment) -> list[Finding]:
    if environment.config_error is None:
        return []
    return [Finding(TS_CONFIG_INVALID, Severity.ERROR,
                    f"TotalSegmentator's configuration cannot be read: {environment.config_error}.",
                    hint=f"Fix or delete {environment.home_dir / 'config.json'} (TotalSegmentator recreates it; "
                         "a licence number in it must then be set again with totalseg_set_license).")]


def _run_findings(run: TSTaskRun, environment: TSEnvironment) -> list[Finding]:
    status = environment.tasks.get(run.task)
    if status is None:
        why = ("does not know" if run.task in environment.unknown_tasks else "was not asked about")
        return [Finding(TS_TASK_UNKNOWN, Severity.ERROR,
                        f"TotalSegmentator {environment.version} {why} task '{run.task}' "
                        f"(needed for {', '.join(run.structures)}).",
                        hint=f"{PIN_COMMAND}, or contour those structures manually.")]
    findings = []
    if status.missing_folders:
        findings.append(_weights_finding(run, status, environment))
    if status.license_required and not status.license_ok:
        findings.append(Finding(TS_LICENSE_MISSING, Severity.ERROR,
                                f"Task '{run.task}' needs a TotalSegmentator licence (for {', '.join(run.structures)}) "
                                f"and {environment.home_dir / 'config.json'} has no valid licence number.",
                                hint=f"Run `totalseg_set_license -l <key>` in that environment (free academic "
                                     f"licence at {LICENSE_URL}; for commercial use contact the author), or "
                                     "contour those structures manually."))
    if run.fast and not status.fast_allowed:
        findings.append(Finding(TS_FAST_NOT_ALLOWED, Severity.WARNING,
                                f"Task '{run.task}' has no fast model: it runs at full resolution although fast "
                                "was asked.",
                                hint="Expect a longer run on CPU; drop its structures to keep the run short."))
    return findings


def _weights_finding(run: TSTaskRun, status: TSTaskStatus, environment: TSEnvironment) -> Finding:
    own = [f for f in status.missing_folders if f not in status.crop_folders]
    crop = [f for f in status.missing_folders if f in status.crop_folders]
    parts = [f"its own model {', '.join(own)}"] if own else []
    if crop:
        parts.append(f"the low-resolution cropping model {', '.join(crop)} (it finds the region to segment first)")
    own_task = FAST_DOWNLOAD_TASKS.get(run.task, run.task) if run.fast else run.task
    covered = DOWNLOAD_INCLUDES.get(own_task, ()) if own else ()
    crop_tasks = [_crop_download_task(f) for f in crop if not f.startswith(covered)]
    downloads = list(dict.fromkeys(([own_task] if own else []) + crop_tasks))
    commands = " and ".join(f"`totalseg_download_weights -t {task}`" for task in downloads)
    return Finding(TS_WEIGHTS_MISSING, Severity.ERROR,
                   f"Task '{run.task}' (for {', '.join(run.structures)}) is missing {' and '.join(parts)} "
                   f"under {environment.weights_dir}.",
                   hint=f"On a machine with internet run {commands}, then copy the folder(s) into "
                        f"{environment.weights_dir}; or copy a populated ~/.totalsegmentator; or set "
                        "TOTALSEG_WEIGHTS_PATH / TOTALSEG_HOME_DIR to a folder that has them.")


def _crop_download_task(folder: str) -> str:
    return next((task for prefix, task in CROP_DOWNLOAD_TASKS.items() if folder.startswith(prefix)), "total")


def _device_findings(device: str, resolved: str, environment: TSEnvironment) -> list[Finding]:
    if resolved != "gpu" or environment.cuda_available is not False:
        return []
    return [Finding(TS_DEVICE, Severity.ERROR,
                    f"Device '{device}' was asked but TotalSegmentator's torch in {environment.python} has no CUDA.",
                    hint="Use --device cpu (use --fast on CPU), or install a CUDA build of torch in that environment.")]


def _memory_findings(plan: TSPlan, ct: CTVolume, needed: int, available: int | None) -> list[Finding]:
    if available is None or needed <= available or not plan.runs:
        return []
    spacing_kji = ct.geometry.spacing_mm[::-1]
    largest = max(plan.runs, key=lambda run: estimate_memory_bytes(ct.geometry.shape, spacing_kji, [run], False))
    return [Finding(TS_MEMORY, Severity.ERROR,
                    f"TotalSegmentator needs about {needed / GB:.1f} GB of memory for this CT but only "
                    f"{available / GB:.1f} GB is available (the largest run is task '{largest.task}', for "
                    f"{', '.join(largest.structures)}).",
                    hint="Use --fast, ask for fewer structures (fewer tasks), or close other programs and run again.")]


__all__ = ["TS_CONFIG_INVALID", "TS_DEVICE", "TS_FAST_NOT_ALLOWED", "TS_LICENSE_MISSING", "TS_MEMORY",
           "TS_NOT_INSTALLED", "TS_TASK_UNKNOWN", "TS_USAGE_STATS", "TS_VERSION", "TS_WEIGHTS_MISSING",
           "run_preflight"]
