"""One job through the core, as the CLI does it: inspect → load → autoseg → names → derive → check → export → verify.

Every step is recorded in the ledger with its duration; the review gate then decides whether the job
is approved for sending or waits for a reviewer. Nothing here sends: :mod:`.sender` does, and only
for approved jobs whose export passed verification.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_json
from ..autoseg.engine import run_autoseg
from ..ct.inspection import inspect_folder
from ..ct.load import load_ct
from ..ct.model import CTVolume
from ..derive import apply_recipes
from ..errors import CancelledError, OARContourError
from ..file_names import file_stems
from ..findings import Finding, Severity
from ..naming.validate import check_unique, validate_name
from ..progress import ProgressCallback, report
from ..qa import check_structures
from ..rtstruct.model import ExportOptions, GenerationAlgorithm, Structure, full_mask
from ..rtstruct.verify import verify_rtstruct
from ..rtstruct.write import write_rtstruct
from .config import NodeConfig
from .ledger import PIPELINE_STATES, Job, JobLedger, JobState

logger = logging.getLogger(__name__)

#: The reviewer recorded when the review gate approves a clean job in ``auto`` mode.
AUTO_REVIEWER = "auto (review.mode = auto, no error finding)"


@dataclass(frozen=True)
class StepTime:
    step: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "seconds": round(self.seconds, 3)}


#: The steps in order, for progress reporting (derive only when recipes are configured).
STEPS = ("inspect", "load", "autoseg", "names", "derive", "check", "export", "verify")


class JobSteps:
    """Records each step's duration in the ledger (pipeline and gateway jobs alike); ``stop()`` returning True cancels between steps."""

    def __init__(self, ledger: JobLedger, job: Job, stop: Callable[[], bool],
                 progress: ProgressCallback | None = None) -> None:
        self.ledger, self.job, self.stop, self.outer = ledger, job, stop, progress
        self.times: list[StepTime] = []
        self.current = 0

    @contextmanager
    def step(self, name: str, **detail: Any) -> Iterator[dict[str, Any]]:
        if self.stop():
            raise CancelledError(f"Stopped before step {name}", hint="The job resumes when the node restarts.")
        self.current = STEPS.index(name) if name in STEPS else self.current  # gateway steps have no share
        report(self.outer, self.current / len(STEPS), name)
        started = time.perf_counter()
        extra: dict[str, Any] = dict(detail)
        yield extra
        seconds = time.perf_counter() - started
        self.times.append(StepTime(name, seconds))
        self.ledger.record(self.job.id, "step", step=name, seconds=round(seconds, 3), **extra)
        logger.info("Job %d: %s done in %.2f s", self.job.id, name, seconds)

    def progress(self, fraction: float, message: str) -> bool:
        """Inner progress of a long step (load, autoseg), mapped onto the step's share of the job."""
        if self.outer is not None and self.outer((self.current + fraction) / len(STEPS), message):
            return True
        return self.stop()


def process_job(ledger: JobLedger, job: Job, config: NodeConfig, stop: Callable[[], bool] = lambda: False,
                progress: ProgressCallback | None = None) -> Job:
    """Run the pipeline for a job in ``received``, ``checked`` or ``contouring``; returns the job as it ends.

    A core error makes the job ``failed`` with the reason; a stop request (``stop()`` True) leaves
    it where it is, to be resumed; any other exception also fails the job (and is logged) so one bad
    series never blocks the queue.
    """
    steps = JobSteps(ledger, job, stop, progress)
    return run_guarded(ledger, job, lambda: _run(ledger, job, config, steps))


def run_guarded(ledger: JobLedger, job: Job, body: Callable[[], object]) -> Job:
    """Run one job's work: a core error fails the job with the reason, a stop leaves it to resume,
    any other exception also fails it (logged), so one bad series never blocks the node."""
    try:
        body()
    except CancelledError:
        logger.info("Job %d: stopped; it resumes on the next start", job.id)
    except OARContourError as exc:
        fail_job(ledger, job, str(exc))
    except Exception as exc:  # noqa: BLE001 - recorded as the job's reason; the node keeps serving
        logger.exception("Job %d: internal error", job.id)
        fail_job(ledger, job, f"internal error: {type(exc).__name__}: {exc}")
    return ledger.job(job.id)


def fail_job(ledger: JobLedger, job: Job, reason: str) -> None:
    """The job ends ``failed`` with the reason (in the ledger and the log)."""
    ledger.transition(job.id, JobState.FAILED, PIPELINE_STATES, reason=reason,
                      detail={"reason": reason})
    logger.warning("Job %d failed: %s", job.id, reason)


def _run(ledger: JobLedger, job: Job, config: NodeConfig, steps: JobSteps) -> None:
    ct_dir, series = Path(job["ct_dir"]), job.series_uid
    if job.state is not JobState.RECEIVED:
        ledger.record(job.id, "resumed", state=job.state.value)
    with steps.step("inspect") as info:
        inspection = inspect_folder(ct_dir, series)
        errors = [p for p in inspection.problems_for_selection() if p.severity is Severity.ERROR]
        info.update(problems=[p.code.value for p in inspection.problems_for_selection()])
    if errors:
        reason = "; ".join(f"[{p.code.value}] {p.message}" for p in errors)
        fail_job(ledger, job, f"CT series failed the loader's checks: {reason}")
        return
    ledger.transition(job.id, JobState.CHECKED, [JobState.RECEIVED])
    ledger.transition(job.id, JobState.CONTOURING, [JobState.CHECKED], engine=config.pipeline.engine,
                      template=config.pipeline.template, tps=config.pipeline.tps)
    with steps.step("load") as info:
        ct = load_ct(ct_dir, series, steps.progress)
        info.update(slices=int(ct.hu.shape[0]))
        ledger.update(job.id, study_uid=ct.reference.study_instance_uid,
                      patient_id=ct.reference.attributes.get("PatientID", ""))
    structures, findings = _contour(ledger, job, config, ct, steps)
    _export_and_gate(ledger, job, config, ct, structures, findings, steps)


def _contour(ledger: JobLedger, job: Job, config: NodeConfig, ct: CTVolume,
             steps: JobSteps) -> tuple[list[Structure], list[Finding]]:
    pipeline = config.pipeline
    with steps.step("autoseg", engine=pipeline.engine) as info:
        result = run_autoseg(ct, engine=pipeline.engine, template=pipeline.template, progress=steps.progress)
        info.update(structures=[s.name for s in result.structures], skipped=sorted(result.skipped))
        ledger.update(job.id, engine_version=str(result.provenance.get("version", "")))
    structures = list(result.structures)
    findings = list(result.findings)
    with steps.step("names") as info:
        # The engines already name in TG-263; this checks the names against the TPS profile.
        names = [f for s in structures for f in validate_name(s.name, profile=pipeline.tps)]
        names += check_unique(s.name for s in structures)
        info.update(findings=len(names))
        findings += names
    if pipeline.derive:
        with steps.step("derive", recipes=list(pipeline.derive)) as info:
            derived = _derive(ct, structures, pipeline.derive)
            info.update(structures=[s.name for s in derived])
            structures += derived
    with steps.step("check") as info:
        qa = check_structures(structures, ct, template=pipeline.template, tps=pipeline.tps)
        info.update(errors=sum(f.severity is Severity.ERROR for f in qa), findings=len(qa))
        findings += qa
    return structures, findings


def _derive(ct: CTVolume, structures: list[Structure], recipes: tuple[str, ...]) -> list[Structure]:
    masks = {s.name: full_mask(s, ct.hu.shape) for s in structures}
    spacing = ct.geometry.spacing_mm[::-1]  # (column, row, slice) → (k, j, i)
    result = apply_recipes(masks, spacing, recipes, ijk_to_lps=ct.geometry.ijk_to_lps())
    return [Structure(n.name, np.asarray(result.masks[n.name], bool), color=tuple(n.color),  # type: ignore[arg-type]
                      roi_type=n.roi_type, algorithm=GenerationAlgorithm.SEMIAUTOMATIC,
                      description="Derived by OARContour") for n in result.names]


def rtstruct_path(job: Job, config: NodeConfig) -> Path:
    """Where the job's RTSTRUCT is written (its ``out_dir``); the label is made a safe file-name part.

    A valid label (SH) may still hold ``/`` or spaces, which must not become a folder or a space in the
    file name.
    """
    stem = file_stems([config.pipeline.structure_set_label], ".dcm")[0]
    return Path(job["out_dir"]) / f"RS_job{job.id}_{stem}.dcm"


def _export_and_gate(ledger: JobLedger, job: Job, config: NodeConfig, ct: CTVolume, structures: list[Structure],
                     findings: list[Finding], steps: JobSteps) -> None:
    target = rtstruct_path(job, config)
    target.parent.mkdir(parents=True, exist_ok=True)
    with steps.step("export") as info:
        options = ExportOptions(tps=config.pipeline.tps, structure_set_label=config.pipeline.structure_set_label,
                                overwrite=True)
        exported = write_rtstruct(target, ct, structures, options)
        findings += exported.findings
        info.update(rois=len(exported.rois))
    with steps.step("verify") as info:
        verification = verify_rtstruct(target, ct, tps=config.pipeline.tps)
        write_json(target.with_name(target.name + ".verify.json"), verification.to_dict())
        info.update(errors=len(verification.of_severity(Severity.ERROR)))
    ledger.update(job.id, rtstruct_path=str(target), rtstruct_sop_uid=exported.sop_instance_uid,
                  findings=[f.to_dict() for f in findings], verification=verification.to_dict())
    gate(ledger, job, config.review.mode, findings, verification.has_errors)
    report(steps.outer, 1.0, "done")


def gate(ledger: JobLedger, job: Job, mode: str, findings: list[Finding], verification_failed: bool) -> JobState:
    """The review gate: approve a clean job in ``auto`` mode, otherwise hold it with the reason."""
    errors = [f for f in findings if f.severity is Severity.ERROR]
    reasons = []
    if verification_failed:
        reasons.append("the exported RTSTRUCT failed verification (it will not be sent)")
    reasons += [f"[{f.code}] {f.roi_name or ''}: {f.message}".replace(" : ", ": ") for f in errors]
    if mode == "hold":
        reasons.insert(0, "review.mode = hold: every job waits for a reviewer")
    if reasons:
        reason = "; ".join(reasons)
        ledger.transition(job.id, JobState.AWAITING_REVIEW, [JobState.CONTOURING], reason=reason,
                          detail={"reason": reason})
        return JobState.AWAITING_REVIEW
    ledger.transition(job.id, JobState.APPROVED, [JobState.CONTOURING], reviewer=AUTO_REVIEWER,
                      reviewed_at=time.time(), detail={"reviewer": AUTO_REVIEWER})
    return JobState.APPROVED
