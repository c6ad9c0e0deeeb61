"""The node against a real Orthanc (PACS and planning system) over real DICOM associations."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest
from service.conftest import NODE_AET, oarcontour, wait_for
from testsupport.orthanc import free_port
from testsupport.series_factory import copy_series, sorted_files

pytestmark = pytest.mark.slow


def _rtstructs(orthanc) -> list[dict]:
    return orthanc.instances_of_modality("RTSTRUCT")


def _read_instance(orthanc, instance_id: str) -> pydicom.Dataset:
    import io
    import urllib.request

    with urllib.request.urlopen(f"{orthanc.url}/instances/{instance_id}/file", timeout=60) as response:
        return pydicom.dcmread(io.BytesIO(response.read()))


def _ct_uids(folder: Path) -> tuple[str, str, str, set[str]]:
    datasets = [pydicom.dcmread(p, stop_before_pixels=True) for p in folder.iterdir()]
    first = datasets[0]
    return (first.StudyInstanceUID, first.SeriesInstanceUID, first.FrameOfReferenceUID,
            {d.SOPInstanceUID for d in datasets})


def test_round_trip_rtstruct_references_the_ct(small_phantom, node_factory, orthanc_factory):
    node = node_factory(destination_port=(dicom_port := free_port()))
    orthanc = orthanc_factory("pacs", node.port, dicom_port=dicom_port)
    node.start()
    series = orthanc.upload(small_phantom.ct_dir)
    orthanc.store_to("node", series)
    wait_for(lambda: _rtstructs(orthanc), 120, "an RTSTRUCT in Orthanc")

    study, series_uid, frame, sops = _ct_uids(small_phantom.ct_dir)
    (found,) = _rtstructs(orthanc)
    rs = _read_instance(orthanc, found["ID"])
    assert rs.Modality == "RTSTRUCT" and rs.StudyInstanceUID == study
    referenced = rs.ReferencedFrameOfReferenceSequence[0]
    assert referenced.FrameOfReferenceUID == frame
    rt_series = referenced.RTReferencedStudySequence[0].RTReferencedSeriesSequence[0]
    assert rt_series.SeriesInstanceUID == series_uid
    assert {item.ReferencedSOPInstanceUID for item in rt_series.ContourImageSequence} <= sops
    names = {roi.ROIName for roi in rs.StructureSetROISequence}
    assert {"Body", "Lung_L", "Lung_R", "SpinalCanal_PRV5"} <= names

    wait_for(lambda: node.job_state() == "sent", 30, "the ledger to record the send")
    (job,) = node.jobs()
    assert job["state"] == "sent" and job["series_uid"] == series_uid and job["instances"] == 16
    assert job["store_status"] == "0x0000" and job["reviewer"].startswith("auto")
    assert node.stop() == 0
    listed = oarcontour("jobs", "list", "--config", str(node.config), "--json")
    assert listed.returncode == 0, listed.stderr
    assert [(j["id"], j["state"]) for j in json.loads(listed.stdout)] == [(job["id"], "sent")]
    shown = oarcontour("jobs", "show", str(job["id"]), "--ledger", str(node.ledger_path), "--json")
    states = [e["state"] for e in json.loads(shown.stdout)["history"] if e["kind"] == "state"]
    assert states == ["received", "checked", "contouring", "approved", "sending", "sent"]
    steps = [e["detail"]["step"] for e in json.loads(shown.stdout)["history"] if e["kind"] == "step"]
    assert steps == ["inspect", "load", "autoseg", "names", "derive", "check", "export", "verify"]
    # The log names jobs, never the patient.
    first = pydicom.dcmread(next(small_phantom.ct_dir.iterdir()), stop_before_pixels=True)
    log = node.log.read_text()
    assert "Job 1: sent" in log
    assert str(first.PatientID) not in log and str(first.PatientName) not in log


def test_ctrl_c_stops_the_node_cleanly(node_factory):
    import signal

    node = node_factory(destination_port=free_port()).start()
    assert node.stop(signal.SIGINT) == 130
    from OARContourLib.service.ledger import Ledger

    ledger = Ledger(node.ledger_path)
    kinds = [e.kind for e in ledger.events(None)]
    ledger.close()
    assert "node_started" in kinds and kinds[-1] == "node_stopped"
    assert "Node stopped" in node.log.read_text()


def test_unknown_calling_ae_is_refused(node_factory):
    from pynetdicom import AE

    node = node_factory(destination_port=free_port()).start()
    ae = AE(ae_title="INTRUDER")
    ae.add_requested_context("1.2.840.10008.1.1")
    assoc = ae.associate("127.0.0.1", node.port, ae_title=NODE_AET)
    assert assoc.is_rejected and not assoc.is_established
    assert "INTRUDER" in wait_for(lambda: "INTRUDER" in node.log.read_text() and node.log.read_text(), 10, "log")


def test_empty_allow_list_refuses_every_caller(node_factory):
    from pynetdicom import AE

    node = node_factory(destination_port=free_port(), allowed=())
    node.process = None
    # The node answers no C-ECHO at all, so start it by hand and probe the port.
    import subprocess
    import sys

    from service.conftest import REPO_ROOT, _env

    node.process = subprocess.Popen([sys.executable, "-m", "OARContourLib.cli.main", "node", "--config",
                                     str(node.config)], stderr=node.log.open("ab"), env=_env(), cwd=REPO_ROOT)
    ae = AE(ae_title="ORTHANC")
    ae.add_requested_context("1.2.840.10008.1.1")

    def rejected() -> bool:
        assoc = ae.associate("127.0.0.1", node.port, ae_title=NODE_AET)
        return bool(assoc.is_rejected)

    assert wait_for(rejected, 60, "a rejection")


def test_disk_reserve_refuses_associations(node_factory):
    from pynetdicom import AE

    node = node_factory(destination_port=free_port(), disk_reserve_mb=10**9)  # a petabyte reserve: always below
    node.process = None
    import subprocess
    import sys

    from service.conftest import REPO_ROOT, _env

    node.process = subprocess.Popen([sys.executable, "-m", "OARContourLib.cli.main", "node", "--config",
                                     str(node.config)], stderr=node.log.open("ab"), env=_env(), cwd=REPO_ROOT)
    ae = AE(ae_title="TESTSCU")
    ae.add_requested_context("1.2.840.10008.1.1")
    assert wait_for(lambda: ae.associate("127.0.0.1", node.port, ae_title=NODE_AET).is_rejected, 60, "a rejection")
    assert "disk_reserve_mb" in node.log.read_text()


def _send(port: int, files: list[Path], abort: bool = False) -> list[int]:
    from pynetdicom import AE

    ae = AE(ae_title="TESTSCU")
    ae.add_requested_context("1.2.840.10008.5.1.4.1.1.2", ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"])
    assoc = ae.associate("127.0.0.1", port, ae_title=NODE_AET)
    assert assoc.is_established
    statuses = [int(assoc.send_c_store(path).Status) for path in files]
    assoc.abort() if abort else assoc.release()
    return statuses


def test_aborted_association_is_dropped(small_phantom, node_factory):
    node = node_factory(destination_port=free_port()).start()
    files = sorted_files(small_phantom.ct_dir)
    assert _send(node.port, files[:5], abort=True) == [0] * 5
    from OARContourLib.service.ledger import Ledger

    def dropped() -> list:
        ledger = Ledger(node.ledger_path)
        try:
            return [e.detail for e in ledger.events(None) if e.kind == "association_aborted"]
        finally:
            ledger.close()

    (event,) = wait_for(dropped, 30, "the abort to be recorded")
    assert event["instances_dropped"] == 5
    assert node.jobs() == []
    assert list((node.spool / "incoming").iterdir()) == []


def test_incomplete_series_fails_and_nothing_is_sent(small_phantom, tmp_path, node_factory, orthanc_factory):
    ct = copy_series(small_phantom.ct_dir, tmp_path / "ct")
    sorted_files(ct)[8].unlink()  # a slice missing in the middle
    node = node_factory(destination_port=(dicom_port := free_port()))
    orthanc = orthanc_factory("pacs", node.port, dicom_port=dicom_port)
    node.start()
    orthanc.store_to("node", orthanc.upload(ct))
    wait_for(lambda: node.job_state() == "failed", 60, "the job to fail")
    (job,) = node.jobs()
    assert "MISSING_SLICE" in job["reason"] and job["rtstruct_path"] == ""
    assert _rtstructs(orthanc) == []


def test_destination_down_then_up_is_retried(small_phantom, node_factory, orthanc_factory):
    dicom_port = free_port()
    node = node_factory(destination_port=dicom_port).start()
    _send(node.port, sorted_files(small_phantom.ct_dir))
    wait_for(lambda: node.jobs() and node.jobs()[0]["attempts"] >= 2, 60, "two failed attempts")
    assert node.job_state() == "sending"
    orthanc = orthanc_factory("tps", node.port, dicom_port=dicom_port)
    wait_for(lambda: node.job_state() == "sent", 60, "the job to be sent")
    assert len(_rtstructs(orthanc)) == 1
    (job,) = node.jobs()
    shown = json.loads(oarcontour("jobs", "show", str(job["id"]), "--config", str(node.config), "--json").stdout)
    attempts = [e["detail"] for e in shown["history"] if e["kind"] == "send_attempt"]
    assert len(attempts) == job["attempts"] >= 3
    assert all(a["status"] is None for a in attempts[:-1]) and attempts[-1]["status"] == "0x0000"
    text = oarcontour("jobs", "show", str(job["id"]), "--config", str(node.config)).stdout
    assert text.count("send_attempt") == len(attempts) and "reviewer         auto" in text


def test_killed_node_resumes_and_sends_exactly_once(small_phantom, node_factory, orthanc_factory):
    import signal

    dicom_port = free_port()
    node = node_factory(destination_port=dicom_port, quiet_seconds=3.0).start()
    _send(node.port, sorted_files(small_phantom.ct_dir))
    wait_for(lambda: node.job_state() == "received", 30, "the series to be filed")
    assert node.stop(signal.SIGKILL) == -signal.SIGKILL  # killed while the series waits for its quiet period
    node.start()
    wait_for(lambda: node.jobs()[0]["attempts"] >= 1, 60, "a failed send attempt")
    assert node.stop(signal.SIGKILL) == -signal.SIGKILL  # killed again, mid-send (destination still down)
    orthanc = orthanc_factory("tps", node.port, dicom_port=dicom_port)
    node.start()
    wait_for(lambda: node.job_state() == "sent", 60, "the job to be sent after the restart")
    assert len(_rtstructs(orthanc)) == 1
    from OARContourLib.service.ledger import Ledger

    ledger = Ledger(node.ledger_path)
    events = ledger.events(1)
    ledger.close()
    states = [e.state for e in events if e.kind == "state"]
    assert states.count("sent") == 1 and states.count("contouring") == 1
    assert len(node.jobs()) == 1


def test_hold_mode_waits_for_approval(small_phantom, node_factory, orthanc_factory):
    node = node_factory(destination_port=(dicom_port := free_port()), mode="hold")
    orthanc = orthanc_factory("pacs", node.port, dicom_port=dicom_port)
    node.start()
    orthanc.store_to("node", orthanc.upload(small_phantom.ct_dir))
    wait_for(lambda: node.job_state() == "awaiting_review", 60, "the job to be held")
    assert "hold" in node.jobs()[0]["reason"]
    assert _rtstructs(orthanc) == []
    approved = oarcontour("jobs", "approve", "1", "--reviewer", "Dr Reviewer", "--config", str(node.config))
    assert approved.returncode == 0, approved.stderr
    wait_for(lambda: node.job_state() == "sent", 60, "the approved job to be sent")
    assert len(_rtstructs(orthanc)) == 1
    assert node.jobs()[0]["reviewer"] == "Dr Reviewer"
    again = oarcontour("jobs", "approve", "1", "--reviewer", "Dr Reviewer", "--config", str(node.config))
    assert again.returncode == 2 and "not awaiting_review" in again.stderr


@pytest.fixture(scope="module")
def larger_phantom(tmp_path_factory):
    """512×512×40: contouring takes seconds, long enough to kill the node in the middle of it."""
    from OARContourLib.phantom import write_phantom

    return write_phantom(tmp_path_factory.mktemp("larger") / "ct", seed=3, slices=40, slice_spacing_mm=9.0)


def test_killed_while_contouring_resumes_and_sends_once(larger_phantom, node_factory, orthanc_factory):
    import signal

    dicom_port = free_port()
    node = node_factory(destination_port=dicom_port, quiet_seconds=0.5)
    orthanc = orthanc_factory("tps", node.port, dicom_port=dicom_port)
    node.start()
    _send(node.port, sorted_files(larger_phantom.ct_dir))
    wait_for(lambda: node.job_state() == "contouring", 120, "contouring to start")
    assert node.stop(signal.SIGKILL) == -signal.SIGKILL
    assert node.job_state() == "contouring" and _rtstructs(orthanc) == []
    node.start()
    wait_for(lambda: node.job_state() == "sent", 180, "the resumed job to be sent")
    from OARContourLib.service.ledger import Ledger

    ledger = Ledger(node.ledger_path)
    events = ledger.events(1)
    ledger.close()
    assert [e.state for e in events if e.kind == "state"] == ["received", "checked", "contouring", "approved",
                                                             "sending", "sent"]
    assert any(e.kind == "resumed" and e.detail["state"] == "contouring" for e in events)
    assert len(_rtstructs(orthanc)) == 1
