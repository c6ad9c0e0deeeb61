"""Reviewer decisions on held jobs: approve (the node then sends) or reject (never sent), both audited."""

from __future__ import annotations

import time

from ..errors import InputError
from .ledger import Job, JobState, Ledger


def approve(ledger: Ledger, job_id: int | str, reviewer: str, comment: str = "") -> Job:
    """Approve a job awaiting review; refused when its RTSTRUCT failed verification.

    Raises
    ------
    InputError
        The job is not awaiting review, its export failed verification, or no reviewer is named.
    """
    job = _held(ledger, job_id, reviewer)
    if job.verification.get("has_errors", True):
        raise InputError(f"Job {job.id}: the RTSTRUCT failed verification and cannot be approved as it is.",
                         hint="Load it in Slicer (OARContourLogic.loadJob), correct it and approve it there "
                              "(approveJob), which exports and verifies again.")
    _transition(ledger, job, JobState.APPROVED, reviewer, comment)
    return ledger.job(job.id)


def reject(ledger: Ledger, job_id: int | str, reviewer: str, comment: str = "") -> Job:
    """Reject a job awaiting review: it is never sent."""
    job = _held(ledger, job_id, reviewer)
    _transition(ledger, job, JobState.REJECTED, reviewer, comment)
    return ledger.job(job.id)


def _held(ledger: Ledger, job_id: int | str, reviewer: str) -> Job:
    if not reviewer.strip():
        raise InputError("A reviewer name is required.", hint="Pass --reviewer NAME.")
    job = ledger.job(job_id)
    if job.state is not JobState.AWAITING_REVIEW:
        raise InputError(f"Job {job.id} is {job.state.value}, not awaiting_review.",
                         hint="Only held jobs are approved or rejected; see `oarcontour jobs show`.")
    return job


def _transition(ledger: Ledger, job: Job, state: JobState, reviewer: str, comment: str) -> None:
    detail = {"reviewer": reviewer, "comment": comment}
    if not ledger.transition(job.id, state, [JobState.AWAITING_REVIEW], reviewer=reviewer,
                             reviewed_at=time.time(), detail=detail):
        raise InputError(f"Job {job.id} changed state meanwhile.", hint="Check it with `oarcontour jobs show`.")
