"""The Logic's side of the node's review workflow: open a held job for editing, approve the edited set.

The Logic may call the service (ledger, review, sender); the service never calls the Logic.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..ct.load import load_ct
from ..errors import ExportError, InputError
from ..rtstruct.model import GenerationAlgorithm, RoiType, Structure
from ..rtstruct.read import read_rtstruct
from ..service.ledger import Job, JobState, Ledger
from . import segmentation_nodes

#: Attributes set on the segmentation node :func:`load_job` creates, read back by :func:`approve_job`.
JOB_ATTRIBUTE = "OARContour.JobId"
CT_NODE_ATTRIBUTE = "OARContour.JobCTNodeID"
#: Where the ledger is when no path is given (e.g. set once in Slicer's Python startup file).
LEDGER_VARIABLE = "OARCONTOUR_LEDGER"


def open_ledger(ledger_path: str | Path | None) -> Ledger:
    path = ledger_path or os.environ.get(LEDGER_VARIABLE)
    if not path:
        raise InputError("No job ledger given.", hint=f"Pass ledgerPath= or set ${LEDGER_VARIABLE}.")
    return Ledger(path, create=False)


def awaiting_review(ledger_path: str | Path | None) -> list[dict[str, Any]]:
    """Jobs in ``awaiting_review`` as dictionaries (what a review list shows), oldest first."""
    ledger = open_ledger(ledger_path)
    try:
        return [job.to_dict() for job in ledger.jobs([JobState.AWAITING_REVIEW])]
    finally:
        ledger.close()


def load_job(logic: Any, job_id: int | str, ledger_path: str | Path | None) -> Any:
    """Load a job's CT and its RTSTRUCT as a segmentation node for editing; returns the segmentation node."""
    ledger = open_ledger(ledger_path)
    try:
        job = ledger.job(job_id)
    finally:
        ledger.close()
    if not job["rtstruct_path"] or not Path(job["rtstruct_path"]).is_file():
        raise InputError(f"Job {job.id} has no structure set to load (state {job.state.value}).",
                         hint=f"Reason recorded: {job['reason'] or '-'}")
    ct_node = logic.loadCT(job["ct_dir"], seriesUID=job.series_uid)
    volume = load_ct(job["ct_dir"], job.series_uid)
    contents = read_rtstruct(job["rtstruct_path"], volume)
    structures = [Structure(roi.name, roi.mask, color=roi.color or (255, 0, 0), roi_type=_roi_type(roi.roi_type),
                            algorithm=_algorithm(roi.generation_algorithm)) for roi in contents.rois]
    seg_node = segmentation_nodes.create_segmentation_node(logic.scene, ct_node, structures, f"Job {job.id}")
    seg_node.SetAttribute(JOB_ATTRIBUTE, str(job.id))
    seg_node.SetAttribute(CT_NODE_ATTRIBUTE, ct_node.GetID())
    return seg_node


def approve_job(logic: Any, job_id: int | str, seg_node: Any, reviewer: str, ledger_path: str | Path | None,
                config_path: str | Path | None) -> Job:
    """Export the edited set, verify it, record the approval and (with a node config) send it once now."""
    from ..service.review import approve

    ledger = open_ledger(ledger_path)
    try:
        job = ledger.job(job_id)
        if job.state is not JobState.AWAITING_REVIEW:
            raise InputError(f"Job {job.id} is {job.state.value}, not awaiting_review.",
                             hint="Only held jobs are approved; see `oarcontour jobs show`.")
        ct_node = _ct_node(logic, seg_node)
        if seg_node.GetAttribute(JOB_ATTRIBUTE) != str(job.id):
            raise InputError(f"This segmentation belongs to job {seg_node.GetAttribute(JOB_ATTRIBUTE)}, not {job.id}.",
                             hint=f"Open job {job.id} with loadJob({job.id}) and approve that segmentation.")
        result = logic.exportRTSTRUCT(seg_node, ct_node, job["out_dir"], tps=job["tps"] or "generic",
                                      structureSetLabel=f"Reviewed{job.id}"[:16], overwrite=True)
        verification = result.verification
        ledger.record(job.id, "review_export", reviewer=reviewer, path=str(result.path),
                      verification_errors=len([f for f in verification.findings if f.severity.value == "error"]))
        if verification.has_errors:
            raise ExportError(f"Job {job.id}: the edited structure set failed verification; nothing approved or sent.",
                              hint=f"See {result.verification_path}, correct the segments and approve again.")
        ledger.update(job.id, rtstruct_path=str(result.path), rtstruct_sop_uid=result.export.sop_instance_uid,
                      verification=verification.to_dict())
        approve(ledger, job.id, reviewer, comment="edited and approved in Slicer")
        if config_path:
            _send_now(ledger, config_path)
        return ledger.job(job.id)
    finally:
        ledger.close()


def _send_now(ledger: Ledger, config_path: str | Path) -> None:
    from ..service.config import load_config
    from ..service.sender import queue_approved, send_due

    config = load_config(config_path)
    queue_approved(ledger, config)
    send_due(ledger, config)  # one attempt; a running node retries a failure with back-off


def _ct_node(logic: Any, seg_node: Any) -> Any:
    node_id = seg_node.GetAttribute(CT_NODE_ATTRIBUTE) if seg_node is not None else None
    ct_node = logic.scene.GetNodeByID(node_id) if node_id else None
    if ct_node is None:
        raise InputError("This segmentation was not opened from a job.", hint="Open the job with loadJob(jobId) first.")
    return ct_node


def _roi_type(text: str) -> RoiType:
    try:
        return RoiType(text)
    except ValueError:
        return RoiType.ORGAN


def _algorithm(text: str) -> GenerationAlgorithm:
    try:
        return GenerationAlgorithm(text)
    except ValueError:
        return GenerationAlgorithm.AUTOMATIC
