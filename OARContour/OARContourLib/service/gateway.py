"""The gateway role: CTs leave de-identified for the outside service; its RTSTRUCTs return re-identified.

A job whose series is a CT (from the hospital) is de-identified into the job's ``out/deid`` folder
with the map of ``[gateway]`` and sent by C-STORE to ``[gateway.service]``; the original CT stays
in the gateway's spool. A job whose series is an RTSTRUCT (from the service) is re-identified onto
that original CT, verified against it, and then goes through the review gate and the ordinary
sender to ``[destination]``. Anything the map does not know, or that fails verification, is held:
the job fails with the reason and nothing is forwarded. Each step is in the ledger.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pydicom

from ..atomic import write_file
from ..deid.files import deidentify_folder, original_series_uid, reidentify_loaded, returned_masks
from ..deid.map_store import DeidMap
from ..dicom_compat import save_dataset
from ..errors import InputError
from .config import GatewaySettings, NodeConfig
from .ledger import Job, JobState, Ledger
from .pipeline import AUTO_REVIEWER, JobSteps, run_guarded
from .sender import backoff_seconds
from .tls import client_context

logger = logging.getLogger(__name__)

HELD = "held, not forwarded"


def process_gateway_job(ledger: Ledger, job: Job, config: NodeConfig, stop: Callable[[], bool] = lambda: False) -> Job:
    """Forward a CT job to the service, or re-identify an RTSTRUCT job; a refusal fails the job with the reason."""
    assert config.gateway is not None
    gateway = config.gateway
    steps = JobSteps(ledger, job, stop)

    def body() -> None:
        if _modality(Path(job["ct_dir"])) == "RTSTRUCT":
            _return_rtstruct(ledger, job, config, gateway, steps)
        elif job["source"] == f"dicom:{gateway.service_ae_title}":  # never loop images back out
            raise InputError(f"{HELD}: the service sent images; only structure sets are taken from it.",
                             hint="Ask the service to return RTSTRUCTs only.")
        else:
            _forward_ct(ledger, job, config, gateway, steps)

    return run_guarded(ledger, job, body)


def _modality(folder: Path) -> str:
    for path in sorted(folder.glob("*.dcm")):
        return str(pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["Modality"]).get("Modality", ""))
    return ""


def _forward_ct(ledger: Ledger, job: Job, config: NodeConfig, gateway: GatewaySettings, steps: JobSteps) -> None:
    deid_dir = Path(job["out_dir"]) / "deid"
    if job.state is not JobState.CHECKED or not deid_dir.is_dir():
        with steps.step("deidentify") as info:
            shutil.rmtree(deid_dir, ignore_errors=True)  # a resumed job: same seed, same result
            deid_dir.parent.mkdir(parents=True, exist_ok=True)
            report = deidentify_folder(job["ct_dir"], deid_dir, gateway.map)
            info.update(instances=report.instances, skipped_files=report.skipped_files)
        header = pydicom.dcmread(next(Path(job["ct_dir"]).glob("*.dcm")), stop_before_pixels=True)
        ledger.transition(job.id, JobState.CHECKED, [JobState.RECEIVED, JobState.CHECKED], next_attempt_at=0.0,
                          study_uid=str(header.get("StudyInstanceUID", "")), patient_id=str(header.get("PatientID", "")))
        job = ledger.job(job.id)
    if float(job["next_attempt_at"]) > time.time():
        return  # the service was unreachable: wait for the back-off
    service = f"{gateway.service_ae_title}@{gateway.service_host}:{gateway.service_port}"
    attempt = int(job["attempts"]) + 1
    with steps.step("send_to_service", destination=service, attempt=attempt) as info:
        failed = store_folder(deid_dir, config, gateway)
        info.update(failed=failed)
    if failed:  # retried with the sender's back-off; the job stays in `checked`
        delay = backoff_seconds(attempt, config)
        ledger.update(job.id, attempts=attempt, store_status=failed, next_attempt_at=time.time() + delay)
        logger.warning("Job %d: sending to the service failed (%s); next in %.0f s", job.id, failed, delay)
        return
    ledger.transition(job.id, JobState.SENT, [JobState.CHECKED], destination=service, store_status="0x0000",
                      attempts=attempt, detail={"destination": service, "deidentified": True})


def store_folder(folder: Path, config: NodeConfig, gateway: GatewaySettings) -> str:
    """C-STORE every file of ``folder`` to the service in one association; '' on success, else what failed."""
    from pynetdicom import AE

    files = sorted(folder.glob("*.dcm"))
    syntaxes = sorted({str(pydicom.dcmread(p, stop_before_pixels=True).file_meta.TransferSyntaxUID) for p in files})
    ae = AE(ae_title=config.node.ae_title)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 30
    ae.connection_timeout = 10
    ae.add_requested_context("1.2.840.10008.5.1.4.1.1.2", syntaxes)
    context = client_context(config.tls)
    tls_args = (context, gateway.service_host) if context is not None else None
    assoc = ae.associate(gateway.service_host, gateway.service_port, ae_title=gateway.service_ae_title,
                         tls_args=tls_args)
    if not assoc.is_established:
        return f"no association ({'rejected' if assoc.is_rejected else 'unreachable or aborted'})"
    try:
        for path in files:
            status = assoc.send_c_store(path)
            if getattr(status, "Status", None) != 0x0000:
                return f"C-STORE status {getattr(status, 'Status', None)} for {path.name}"
    finally:
        if assoc.is_established:
            assoc.release()
    return ""


def _return_rtstruct(ledger: Ledger, job: Job, config: NodeConfig, gateway: GatewaySettings, steps: JobSteps) -> None:
    files = sorted(Path(job["ct_dir"]).glob("*.dcm"))
    if len(files) != 1:
        raise InputError(f"{HELD}: the series holds {len(files)} files, not one RTSTRUCT.",
                         hint="The service returns one structure set per series.")
    returned = pydicom.dcmread(files[0])
    target = Path(job["out_dir"]) / f"RS_job{job.id}_reidentified.dcm"
    with steps.step("reidentify") as info, DeidMap(gateway.map) as deid_map:
        original = _original_ct(ledger, original_series_uid(returned, deid_map))
        try:
            deid_ct = Path(original["out_dir"]) / "deid"
            masks = (lambda: returned_masks(files[0], deid_ct)) if deid_ct.is_dir() else None
            result = reidentify_loaded(returned, deid_map, original["ct_dir"], gateway.uid_root, config.pipeline.tps,
                                       masks)
        except InputError as exc:
            raise InputError(f"{HELD}: {exc.message}", hint=exc.hint) from exc
        target.parent.mkdir(parents=True, exist_ok=True)
        write_file(target, lambda temporary: save_dataset(result.dataset, temporary, enforce_file_format=True))
        info.update(uids_mapped=result.uids_mapped, original_job=original.id, warnings=len(result.report.findings),
                    min_dice=round(min(result.report.dice.values()), 6) if result.report.dice else None)
    ledger.update(job.id, rtstruct_path=str(target), rtstruct_sop_uid=str(result.dataset.SOPInstanceUID),
                  study_uid=str(result.dataset.StudyInstanceUID), patient_id=str(result.dataset.get("PatientID", "")),
                  verification=result.report.to_dict(), findings=[f.to_dict() for f in result.report.findings])
    ledger.transition(job.id, JobState.CHECKED, [JobState.RECEIVED, JobState.CHECKED])
    _gate(ledger, job, config.review.mode)


def _original_ct(ledger: Ledger, series_uid: str | None) -> Job:
    original = ledger.job_for_series(series_uid) if series_uid else None
    if original is None or not original["ct_dir"] or not Path(original["ct_dir"]).is_dir():
        raise InputError(f"{HELD}: the RTSTRUCT references no CT this gateway sent out (or its CT left the spool).",
                         hint="Ask the service which CT it contoured.")
    return original


def _gate(ledger: Ledger, job: Job, mode: str) -> None:
    if mode == "hold":
        reason = "review.mode = hold: every job waits for a reviewer"
        ledger.transition(job.id, JobState.AWAITING_REVIEW, [JobState.CHECKED], reason=reason, detail={"reason": reason})
        return
    ledger.transition(job.id, JobState.APPROVED, [JobState.CHECKED], reviewer=AUTO_REVIEWER, reviewed_at=time.time(),
                      detail={"reviewer": AUTO_REVIEWER})


__all__ = ["HELD", "process_gateway_job", "store_folder"]
