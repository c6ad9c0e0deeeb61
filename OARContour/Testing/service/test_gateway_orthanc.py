"""Gateway role, end to end on loopback: Orthanc → gateway → service node → gateway → Orthanc.

Orthanc plays the hospital's PACS and planning system; the service is an ordinary node whose
destination is the gateway. Asserted: the RTSTRUCT in Orthanc references the original CT exactly;
no original identifying value is anywhere in the service node's files (spool, ledger, log);
tampered returns are held at the gateway, never forwarded.
"""

from __future__ import annotations

import io
import signal
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pydicom
import pytest
from deid.leaks import identifying_values, leaks_in
from pydicom.uid import generate_uid
from service.conftest import NodeProcess, wait_for
from testsupport.orthanc import free_port, start_orthanc

pytestmark = pytest.mark.slow


def _node_section(aet: str, port: int, callers: str) -> str:
    return (f'[node]\nae_title = "{aet}"\nhost = "127.0.0.1"\nport = {port}\nspool = "spool"\n'
            f'ledger = "ledger.sqlite"\nallowed_callers = [{callers}]\nquiet_seconds = 1\ndisk_reserve_mb = 10\n')


@dataclass
class Site:
    orthanc: object
    gateway: NodeProcess
    service: NodeProcess
    map_path: Path


@pytest.fixture()
def site(tmp_path: Path) -> Iterator[Site]:
    gateway_port, service_port, pacs_port = free_port(), free_port(), free_port()
    hospital, outside = tmp_path / "hospital", tmp_path / "service"
    hospital.mkdir()
    outside.mkdir()
    map_path = hospital / "deid-map.sqlite"
    (hospital / "gateway.toml").write_text(
        _node_section("GATEWAY", gateway_port, '"ORTHANC", "SERVICE", "TESTSCU"')
        + f'[gateway]\nmap = "{map_path}"\n[gateway.service]\nae_title = "SERVICE"\nhost = "127.0.0.1"\n'
          f'port = {service_port}\n'
        + f'[destination]\nae_title = "ORTHANC"\nhost = "127.0.0.1"\nport = {pacs_port}\n'
          'retry_initial_seconds = 0.5\nretry_max_seconds = 2\n', encoding="utf-8")
    (outside / "node.toml").write_text(
        _node_section("SERVICE", service_port, '"GATEWAY", "TESTSCU"')
        + '[pipeline]\nengine = "classical"\ntemplate = "Thorax"\ntps = "generic"\n'
        + f'[destination]\nae_title = "GATEWAY"\nhost = "127.0.0.1"\nport = {gateway_port}\n'
          'retry_initial_seconds = 0.5\nretry_max_seconds = 2\n', encoding="utf-8")
    orthanc = start_orthanc(tmp_path / "pacs", {"gateway": ("GATEWAY", "127.0.0.1", gateway_port)},
                            dicom_port=pacs_port)
    gateway = NodeProcess(hospital / "gateway.toml", gateway_port, hospital / "gateway.log", aet="GATEWAY")
    service = NodeProcess(outside / "node.toml", service_port, outside / "node.log", aet="SERVICE")
    try:
        yield Site(orthanc, gateway.start(), service.start(), map_path)
    finally:
        for node in (gateway, service):
            if node.process is not None and node.process.poll() is None:
                node.stop(signal.SIGTERM)
        orthanc.stop()  # type: ignore[attr-defined]


def _rtstructs(orthanc) -> list[dict]:
    return orthanc.instances_of_modality("RTSTRUCT")


def _instance(orthanc, instance_id: str) -> pydicom.Dataset:
    with urllib.request.urlopen(f"{orthanc.url}/instances/{instance_id}/file", timeout=60) as response:
        return pydicom.dcmread(io.BytesIO(response.read()))


def _send(path_or_ds, port: int, aet: str) -> int:
    from pynetdicom import AE

    ae = AE(ae_title="TESTSCU")
    ae.add_requested_context("1.2.840.10008.5.1.4.1.1.481.3")
    assoc = ae.associate("127.0.0.1", port, ae_title=aet)
    assert assoc.is_established
    status = assoc.send_c_store(path_or_ds)
    assoc.release()
    return int(status.Status)


def test_gateway_round_trip_leaves_no_trace_and_holds_tampered_returns(small_phantom, site):
    orthanc, gateway, service = site.orthanc, site.gateway, site.service
    orthanc.store_to("gateway", orthanc.upload(small_phantom.ct_dir))  # type: ignore[attr-defined]
    wait_for(lambda: _rtstructs(orthanc), 240, "the re-identified RTSTRUCT in Orthanc")

    originals = [pydicom.dcmread(p, stop_before_pixels=True) for p in small_phantom.ct_dir.iterdir()]
    first = originals[0]
    (found,) = _rtstructs(orthanc)
    rs = _instance(orthanc, found["ID"])
    frame = rs.ReferencedFrameOfReferenceSequence[0]
    rt_series = frame.RTReferencedStudySequence[0].RTReferencedSeriesSequence[0]
    assert (rs.StudyInstanceUID, frame.FrameOfReferenceUID, rt_series.SeriesInstanceUID) == \
        (first.StudyInstanceUID, first.FrameOfReferenceUID, first.SeriesInstanceUID)
    slices = {d.SOPInstanceUID for d in originals}
    contour_images = {item.ReferencedSOPInstanceUID for roi in rs.ROIContourSequence
                      for contour in roi.ContourSequence for item in contour.ContourImageSequence}
    assert contour_images and contour_images <= slices
    assert {str(i.ReferencedSOPInstanceUID) for i in rt_series.ContourImageSequence} <= slices
    assert (rs.PatientName, rs.PatientID, rs.PatientBirthDate) == (first.PatientName, first.PatientID,
                                                                   first.PatientBirthDate)
    assert {"Body", "Lung_L", "Lung_R"} <= {roi.ROIName for roi in rs.StructureSetROISequence}

    wait_for(lambda: [j["state"] for j in gateway.jobs()] == ["sent", "sent"], 30, "both gateway jobs sent")
    ct_job, rs_job = gateway.jobs()
    assert ct_job["destination"].startswith("SERVICE@") and rs_job["destination"].startswith("ORTHANC@")
    assert rs_job["verification"]["has_errors"] is False and min(rs_job["verification"]["dice"].values()) >= 0.99
    from OARContourLib.service.ledger import Ledger

    ledger = Ledger(gateway.ledger_path)
    steps = {job["id"]: [e.detail["step"] for e in ledger.events(job["id"]) if e.kind == "step"]
             for job in (ct_job, rs_job)}
    states = [e.state for e in ledger.events(rs_job["id"]) if e.kind == "state"]
    ledger.close()
    assert steps == {ct_job["id"]: ["deidentify", "send_to_service"], rs_job["id"]: ["reidentify"]}
    assert states == ["received", "checked", "approved", "sending", "sent"]
    (service_job,) = service.jobs()
    assert service_job["state"] == "sent" and service_job["series_uid"] != first.SeriesInstanceUID

    # The leak scan: everything the service node holds (spool, ledger and its WAL, log).
    assert service.stop() == 0
    values = identifying_values(small_phantom.ct_dir)
    assert len(list(service.spool.rglob("*.dcm"))) == 17  # the 16 slices it received and the RTSTRUCT it wrote
    assert leaks_in([service.config.parent], values) == []
    assert leaks_in([gateway.spool / "jobs" / str(ct_job["id"]) / "ct"], values)  # the scan finds what is there

    # Tampered returns, sent as the service would: an unknown Contour Image UID, a changed Frame of Reference.
    returned = pydicom.dcmread(next((service.spool / "jobs").rglob("RS_*.dcm")))
    for tamper in ("contour_image", "frame"):
        bad = pydicom.dcmread(next((service.spool / "jobs").rglob("RS_*.dcm")))
        bad.SeriesInstanceUID, bad.SOPInstanceUID = generate_uid(), generate_uid()
        bad.file_meta.MediaStorageSOPInstanceUID = bad.SOPInstanceUID
        if tamper == "contour_image":
            bad.ROIContourSequence[0].ContourSequence[0].ContourImageSequence[0].ReferencedSOPInstanceUID = \
                generate_uid()
        else:
            bad.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID = generate_uid()
        assert _send(bad, gateway.port, "GATEWAY") == 0
    wait_for(lambda: len(gateway.jobs()) == 4 and all(j["state"] == "failed" for j in gateway.jobs()[2:]), 60,
             "the tampered returns to be held")
    for job in gateway.jobs()[2:]:
        assert job["reason"].startswith("held, not forwarded") and "does not know" in job["reason"]
    assert len(_rtstructs(orthanc)) == 1
    assert returned.PatientID != first.PatientID
    assert gateway.stop() == 0
