"""Gateway forwarding when the service is down: the job waits with back-off, then goes once it is up."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pydicom
from OARContourLib.service.config import parse_config
from OARContourLib.service.gateway import process_gateway_job
from OARContourLib.service.ledger import JobState, Ledger
from testsupport.orthanc import free_port


def _storage_scp(port: int, received: list[pydicom.Dataset]):
    from pynetdicom import AE, evt

    def on_store(event):
        received.append(event.dataset)
        return 0x0000

    ae = AE(ae_title="SERVICE")
    ae.add_supported_context("1.2.840.10008.5.1.4.1.1.2", ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1"])
    return ae.start_server(("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)])


def test_ct_waits_for_the_service_then_is_sent_deidentified(small_phantom, tmp_path: Path):
    port = free_port()
    config = parse_config({"node": {"ae_title": "GATEWAY", "spool": "spool", "ledger": "l.sqlite"},
                           "gateway": {"map": "map.sqlite", "service": {"ae_title": "SERVICE", "port": port}},
                           "destination": {"retry_initial_seconds": 30}}, base=tmp_path)
    ct_dir = tmp_path / "spool" / "jobs" / "1" / "ct"
    shutil.copytree(small_phantom.ct_dir, ct_dir)
    ledger = Ledger(config.node.ledger)
    job, _ = ledger.add_job("1.2.3", source="dicom:ORTHANC", ct_dir=str(ct_dir), out_dir=str(ct_dir.parent / "out"))

    job = process_gateway_job(ledger, job, config)
    assert job.state is JobState.CHECKED and job["attempts"] == 1 and "no association" in job["store_status"]
    assert job["next_attempt_at"] > time.time() + 20  # the sender's back-off, not every tick
    assert process_gateway_job(ledger, job, config)["attempts"] == 1  # not due yet: nothing tried

    received: list[pydicom.Dataset] = []
    server = _storage_scp(port, received)
    try:
        ledger.update(job.id, next_attempt_at=0.0)
        job = process_gateway_job(ledger, ledger.job(job.id), config)
    finally:
        server.shutdown()
    assert job.state is JobState.SENT and job["attempts"] == 2 and job["destination"].startswith("SERVICE@")
    originals = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p in small_phantom.ct_dir.iterdir()}
    assert len(received) == len(originals) and not {d.SOPInstanceUID for d in received} & originals
    assert all(d.PatientIdentityRemoved == "YES" for d in received)
    assert job["patient_id"] == pydicom.dcmread(next(ct_dir.iterdir()), stop_before_pixels=True).PatientID
    steps = [e.detail.get("step") for e in ledger.events(job.id) if e.kind == "step"]
    assert steps == ["deidentify", "send_to_service", "send_to_service"]
    assert (tmp_path / "map.sqlite").stat().st_mode & 0o777 == 0o600
    ledger.close()
