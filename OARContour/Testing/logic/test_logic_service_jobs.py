"""loadJob / approveJob on real MRML (slicer-core) against a real ledger and a real Orthanc destination."""

from __future__ import annotations

from pathlib import Path

import pytest
from OARContourLib.errors import InputError
from OARContourLib.service.config import load_config
from OARContourLib.service.ledger import JobState, Ledger
from OARContourLib.service.pipeline import process_job
from testsupport.orthanc import free_port, start_orthanc


def _held_job(small_phantom, tmp_path: Path, destination_port: int) -> tuple[Path, Path]:
    config_path = tmp_path / "node.toml"
    config_path.write_text(f'[node]\nspool = "spool"\nledger = "ledger.sqlite"\n[pipeline]\nderive = ["SpinalCanal:5"]\n[review]\nmode = "hold"\n'
                           f'[destination]\nae_title = "ORTHANC"\nport = {destination_port}\n', encoding="utf-8")
    config = load_config(config_path)
    ledger = Ledger(config.node.ledger)
    uid = next(p for p in small_phantom.ct_dir.iterdir())
    import pydicom

    series_uid = pydicom.dcmread(uid, stop_before_pixels=True).SeriesInstanceUID
    job, _ = ledger.add_job(series_uid, source="test", ct_dir=str(small_phantom.ct_dir), out_dir=str(tmp_path / "out"))
    assert process_job(ledger, job, config).state is JobState.AWAITING_REVIEW
    ledger.close()
    return config_path, config.node.ledger


def test_load_edit_approve_sends_the_edited_set(small_phantom, tmp_path, logic):
    import slicer

    dicom_port = free_port()
    config_path, ledger_path = _held_job(small_phantom, tmp_path, dicom_port)
    (held,) = logic.jobsAwaitingReview(ledgerPath=ledger_path)
    assert held["id"] == 1 and "hold" in held["reason"] and held["verification"]["has_errors"] is False
    seg = logic.loadJob(1, ledgerPath=ledger_path)
    segmentation = seg.GetSegmentation()
    names = {segmentation.GetNthSegment(i).GetName() for i in range(segmentation.GetNumberOfSegments())}
    assert {"Body", "Lung_L", "Lung_R", "SpinalCanal_PRV5"} <= names
    ct_node = slicer.mrmlScene.GetNodeByID(seg.GetAttribute("OARContour.JobCTNodeID"))
    assert ct_node is not None and slicer.util.arrayFromVolume(ct_node).shape == (16, 64, 64)
    segmentation.RemoveSegment(segmentation.GetSegmentIdBySegmentName("SpinalCanal_PRV5"))  # the reviewer's edit

    orthanc = start_orthanc(tmp_path / "tps", {}, dicom_port=dicom_port)
    try:
        job = logic.approveJob(1, seg, "Dr Reviewer", ledgerPath=ledger_path, configPath=config_path)
        assert job.state is JobState.SENT and job["reviewer"] == "Dr Reviewer"
        (found,) = orthanc.instances_of_modality("RTSTRUCT")
        import io
        import urllib.request

        import pydicom

        with urllib.request.urlopen(f"{orthanc.url}/instances/{found['ID']}/file", timeout=60) as response:
            rs = pydicom.dcmread(io.BytesIO(response.read()))
    finally:
        orthanc.stop()
    sent_names = {roi.ROIName for roi in rs.StructureSetROISequence}
    assert "SpinalCanal_PRV5" not in sent_names and {"Body", "Lung_L"} <= sent_names
    assert rs.SOPInstanceUID == job["rtstruct_sop_uid"]
    ledger = Ledger(ledger_path)
    kinds = [e.kind for e in ledger.events(1)]
    ledger.close()
    assert "review_export" in kinds and kinds.count("send_attempt") == 1
    assert logic.jobsAwaitingReview(ledgerPath=ledger_path) == []


def test_approve_refuses_a_job_not_awaiting_review_and_a_foreign_segmentation(small_phantom, tmp_path, logic):
    _config, ledger_path = _held_job(small_phantom, tmp_path, free_port())
    seg = logic.loadJob(1, ledgerPath=ledger_path)
    other = logic.scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
    with pytest.raises(InputError, match="not opened from a job"):
        logic.approveJob(1, other, "Dr A", ledgerPath=ledger_path)
    seg.SetAttribute("OARContour.JobId", "7")  # a segmentation opened from another job
    with pytest.raises(InputError, match="belongs to job 7"):
        logic.approveJob(1, seg, "Dr A", ledgerPath=ledger_path)
    seg.SetAttribute("OARContour.JobId", "1")
    ledger = Ledger(ledger_path)
    ledger.transition(1, JobState.REJECTED, [JobState.AWAITING_REVIEW])
    ledger.close()
    with pytest.raises(InputError, match="not awaiting_review"):
        logic.approveJob(1, seg, "Dr A", ledgerPath=ledger_path)
