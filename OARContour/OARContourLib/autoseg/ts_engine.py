"""The TotalSegmentator engine: plan → probe → preflight → one child process per task → TG-263 structures.

Every check runs before any work: the preflight lists all that is missing (package, weights,
licence, memory, device) in one error, and no CT file is written until it passes. Usage statistics
are switched off in TotalSegmentator's config before its first run. The CT reaches TotalSegmentator
as a NIfTI in a private temporary folder that is removed afterwards, whether the run worked or not.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..ct.model import CTVolume
from ..findings import Finding
from ..progress import ProgressCallback, report, scaled
from ..rtstruct.model import Structure
from .request import AutosegRequest, EnginePreflight
from .result import AutosegResult, description_for
from .selection import TOTALSEGMENTATOR, select_structures
from .totalsegmentator_outputs import read_classes, structures_from_classes
from .ts_model import PreflightReport, TSPlan, TSTaskRun
from .ts_plan import available_structures, plan_tasks
from .ts_preflight import run_preflight
from .ts_probe import default_python, probe_environment
from .ts_runner import TaskRunResult, run_task, write_ct_nifti
from .ts_usage_stats import disable_usage_statistics

logger = logging.getLogger(__name__)

ENGINE = TOTALSEGMENTATOR
#: Share of the progress bar for the checks, the CT export, the runs and the import.
_CHECKED, _EXPORTED, _RAN = 0.05, 0.10, 0.95


@dataclass(frozen=True)
class TSRequest:
    """What to produce (after template selection) and how TotalSegmentator should run."""

    wanted: tuple[str, ...]
    skipped: dict[str, str]
    template: str | None = None
    device: str = "auto"
    fast: bool = False
    python: str | None = None


class TotalSegmentatorEngine:
    """TotalSegmentator in a child process, after a preflight of its installation."""

    name = TOTALSEGMENTATOR
    label = "TotalSegmentator"

    def structures(self) -> tuple[str, ...]:
        return available_structures()

    def preflight(self, ct: CTVolume, request: AutosegRequest) -> EnginePreflight | None:
        """The plan and every problem blocking it; runs only TotalSegmentator's Python to probe it."""
        plan, preflight = check(ct, ts_request(request))
        data = {**preflight.to_dict(), "runs": [run.to_dict() for run in plan.runs],
                "unavailable": dict(plan.unavailable)}
        return EnginePreflight(preflight.ok, preflight_lines(plan, preflight), data)

    def segment(self, ct: CTVolume, request: AutosegRequest,
                progress: ProgressCallback | None = None) -> AutosegResult:
        return segment_totalsegmentator(ct, ts_request(request), progress=progress)


def ts_request(request: AutosegRequest) -> TSRequest:
    """The names TotalSegmentator should produce for ``request`` and the template names it skips.

    Raises
    ------
    InputError
        Unknown template, or a listed name no TotalSegmentator task provides.
    """
    wanted, skipped = select_structures(ENGINE, available_structures(), request.template, request.structures)
    return TSRequest(tuple(wanted), skipped, request.template, request.device, request.fast, request.python)


def preflight_lines(plan: TSPlan, preflight: PreflightReport) -> tuple[str, ...]:
    """What a run would do and every problem blocking it, one line each, for a terminal."""
    environment = preflight.environment
    version = environment.version if environment and environment.version else "not installed"
    python = environment.python if environment else "?"
    lines = [f"TotalSegmentator {version} ({python}); device {preflight.device}"]
    for run in plan.runs:
        subset = f" ({len(run.roi_subset)} classes)" if run.roi_subset else ""
        lines.append(f"RUN     {run.task}{subset}{' fast' if run.fast else ''}: {', '.join(run.structures)}")
    lines += [f"SKIPPED {name}: {reason}" for name, reason in plan.unavailable.items()]
    for finding in preflight.findings:
        hint = f" ({finding.hint})" if finding.hint else ""
        lines.append(f"{finding.severity.value.upper():<7} {finding.code}: {finding.message}{hint}")
    lines.append("Preflight OK: TotalSegmentator can run." if preflight.ok else
                 "Preflight failed: TotalSegmentator cannot run (see the errors above).")
    return tuple(lines)


def plan_for(request: TSRequest) -> TSPlan:
    """The TotalSegmentator runs that produce ``request.wanted`` (no runs when nothing is wanted)."""
    if not request.wanted:
        return TSPlan(())
    return plan_tasks(request.wanted, fast=request.fast, template=request.template)


def check(ct: CTVolume, request: TSRequest, plan: TSPlan | None = None) -> tuple[TSPlan, PreflightReport]:
    """The plan for ``request`` and the preflight of the TotalSegmentator installation for it.

    Runs only TotalSegmentator's Python to read its version, weights and config; never a segmentation.
    """
    plan = plan if plan is not None else plan_for(request)
    environment = probe_environment(request.python or default_python(), plan.runs,
                                    check_cuda=request.device != "cpu")
    return plan, run_preflight(plan, environment, ct, device=request.device)


def segment_totalsegmentator(ct: CTVolume, request: TSRequest, *, progress: ProgressCallback | None = None,
                             command: Sequence[str] | None = None, work_root: Path | None = None) -> AutosegResult:
    """Run TotalSegmentator for ``request`` and return its structures as TG-263 names on ``ct``'s grid.

    Parameters
    ----------
    ct
        The loaded CT; written as NIfTI for TotalSegmentator, so DICOM quirks never reach it.
    request
        Wanted names, skipped names, device, speed and the interpreter that has TotalSegmentator.
    progress
        ``progress(fraction, message) -> cancel``.
    command
        Replaces ``[python, "-m", "totalsegmentator.bin.TotalSegmentator"]`` (tests).
    work_root
        Where the temporary work folder goes (default: the system's temporary folder).

    Raises
    ------
    InputError
        The preflight found blocking problems (the message lists them all); nothing was run.
    EngineError
        TotalSegmentator failed or was killed (probably out of memory).
    CancelledError
        ``progress`` asked to stop; the child was terminated and the work folder removed.
    """
    started = time.perf_counter()
    report(progress, 0.0, "Checking the TotalSegmentator installation")
    plan = plan_for(request)
    if not plan.runs:
        logger.info("No TotalSegmentator task provides the wanted structures; nothing to run.")
        return AutosegResult((), {**request.skipped, **plan.unavailable}, _provenance(request, None, [], started))
    plan, preflight = check(ct, request, plan)
    return run_checked(ct, request, plan, preflight, progress=progress, command=command, work_root=work_root,
                       started=started)


def run_checked(ct: CTVolume, request: TSRequest, plan: TSPlan, preflight: PreflightReport, *,
                progress: ProgressCallback | None = None, command: Sequence[str] | None = None,
                work_root: Path | None = None, started: float | None = None) -> AutosegResult:
    """Run ``plan`` once ``preflight`` has no errors (the second half of :func:`segment_totalsegmentator`).

    Raises
    ------
    InputError, EngineError, CancelledError
        As :func:`segment_totalsegmentator`.
    """
    started = time.perf_counter() if started is None else started
    preflight.raise_for_errors()
    assert preflight.environment is not None  # a report without an environment has errors
    disable_usage_statistics(preflight.environment.home_dir)
    report(progress, _CHECKED, "Writing the CT for TotalSegmentator")
    with tempfile.TemporaryDirectory(prefix="oarcontour-ts-", dir=work_root) as work:
        ct_nifti = Path(work) / "ct.nii.gz"
        write_ct_nifti(ct, ct_nifti)
        runs, made, findings = _run_all(ct, plan, preflight, ct_nifti, progress, command)
    structures, skipped = outcome(request, plan, made)
    report(progress, 1.0, "TotalSegmentator done")
    return AutosegResult(structures, skipped, _provenance(request, preflight, runs, started),
                         tuple(preflight.findings) + tuple(findings))


def outcome(request: TSRequest, plan: TSPlan, made: dict[str, Structure],
            ) -> tuple[tuple[Structure, ...], dict[str, str]]:
    """The structures made, in the order asked for, and every wanted name not made with the reason."""
    skipped = {**request.skipped, **plan.unavailable}
    for name in (n for run in plan.runs for n in run.structures if n not in made):
        skipped.setdefault(name, "not in the TotalSegmentator output (empty or outside the scan)")
    return tuple(made[n] for n in dict.fromkeys([*request.wanted, *made]) if n in made), skipped


def planned_only(run: TSTaskRun, made: dict[str, Structure], findings: list[Finding],
                 ) -> tuple[dict[str, Structure], list[Finding]]:
    """The structures ``run`` was planned for and their findings; other classes of its task are dropped."""
    wanted = set(run.structures)
    return {name: s for name, s in made.items() if name in wanted}, [f for f in findings if f.roi_name in wanted]


def run_record(run: TSTaskRun, seconds: float) -> dict[str, Any]:
    """One run's entry in the provenance."""
    return {"task": run.task, "roi_subset": list(run.roi_subset) if run.roi_subset else None,
            "seconds": round(seconds, 3)}


def _run_all(ct: CTVolume, plan: TSPlan, preflight: PreflightReport, ct_nifti: Path,
             progress: ProgressCallback | None, command: Sequence[str] | None,
             ) -> tuple[list[TaskRunResult], dict[str, Structure], list[Finding]]:
    assert preflight.environment is not None
    environment = preflight.environment
    runs: list[TaskRunResult] = []
    made: dict[str, Structure] = {}
    findings: list[Finding] = []
    step = (_RAN - _EXPORTED) / len(plan.runs)
    for index, run in enumerate(plan.runs):
        start = _EXPORTED + index * step
        output = ct_nifti.with_name(f"{index:02d}_{run.task}.nii.gz")
        result = run_task(ct_nifti, run, output, python=environment.python, device=preflight.device,
                          progress=scaled(progress, start, start + 0.9 * step), command=command)
        report(progress, start + 0.9 * step, f"Importing TotalSegmentator {run.task}")
        structures, partial = _import_run(ct, run, output, environment.version or "unknown")
        runs.append(result)
        made.update(structures)
        findings += partial
    return runs, made, findings


def _import_run(ct: CTVolume, run: TSTaskRun, output: Path, version: str,
                ) -> tuple[dict[str, Structure], list[Finding]]:
    """The structures ``run`` was planned for, from its output; classes it made beyond those are ignored."""
    by_class, findings = read_classes(output, ct)
    description = description_for(ENGINE, version, run.task)
    made, _, partial = structures_from_classes(by_class, run.task, ct.geometry.shape, description)
    structures, planned_findings = planned_only(run, made, partial)
    return structures, findings + planned_findings


def _provenance(request: TSRequest, preflight: PreflightReport | None, runs: list[TaskRunResult],
                started: float) -> dict[str, Any]:
    environment = preflight.environment if preflight else None
    return {"engine": ENGINE, "version": environment.version if environment else None,
            "python": environment.python if environment else request.python,
            "device": preflight.device if preflight else request.device,
            "fast": request.fast, "template": request.template,
            "runs": [run_record(r.run, r.seconds) for r in runs],
            "seconds": round(time.perf_counter() - started, 3)}
