"""Gateway return path in-process: a service's RTSTRUCT re-identified onto the CT in the spool, gated, held."""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
import pytest
import SimpleITK as sitk
from OARContourLib.ct.load import load_ct
from OARContourLib.deid.files import deidentify_folder
from OARContourLib.dicom_compat import save_dataset
from OARContourLib.rtstruct.model import RoiType, Structure
from OARContourLib.rtstruct.write import write_rtstruct
from OARContourLib.service import review
from OARContourLib.service.config import parse_config
from OARContourLib.service.gateway import process_gateway_job
from OARContourLib.service.ledger import JobState, Ledger


@pytest.fixture()
def gateway(small_phantom, tmp_path: Path):
    """A gateway ledger holding the original CT job, and the service's RTSTRUCT on the de-identified CT."""
    config = parse_config({"node": {"spool": "spool", "ledger": "l.sqlite"},
                           "gateway": {"map": "map.sqlite", "uid_root": "1.2.826.0.1.3680043.10.999"},
                           "review": {"mode": "hold"}}, base=tmp_path)
    original = tmp_path / "spool" / "jobs" / "1" / "ct"
    shutil.copytree(small_phantom.ct_dir, original)
    ledger = Ledger(config.node.ledger)
    series = str(pydicom.dcmread(next(original.iterdir()), stop_before_pixels=True).SeriesInstanceUID)
    ledger.add_job(series, source="dicom:PACS", ct_dir=str(original), out_dir=str(original.parent / "out"))
    deidentify_folder(original, original.parent / "out" / "deid", config.gateway.map)  # type: ignore[union-attr]
    shutil.copytree(original.parent / "out" / "deid", tmp_path / "deid")
    structures = [Structure(name, sitk.GetArrayFromImage(sitk.ReadImage(str(path))).astype(bool),
                            roi_type=RoiType.EXTERNAL if name == "Body" else RoiType.ORGAN)
                  for name, path in small_phantom.truth_files.items()]
    write_rtstruct(tmp_path / "service.dcm", load_ct(tmp_path / "deid"), structures)
    yield config, ledger, tmp_path
    ledger.close()


def _return(config, ledger: Ledger, folder: Path, rs: pydicom.Dataset, number: int):
    job_dir = folder / "spool" / "jobs" / str(number)
    (job_dir / "ct").mkdir(parents=True)
    save_dataset(rs, job_dir / "ct" / "rs.dcm", enforce_file_format=True)
    job, _ = ledger.add_job(str(rs.SeriesInstanceUID), source="dicom:SERVICE", ct_dir=str(job_dir / "ct"),
                            out_dir=str(job_dir / "out"))
    return process_gateway_job(ledger, job, config)


def test_returned_rtstruct_waits_for_review_then_is_approved(gateway):
    config, ledger, folder = gateway
    job = _return(config, ledger, folder, pydicom.dcmread(folder / "service.dcm"), 2)
    assert job.state is JobState.AWAITING_REVIEW and job.verification["has_errors"] is False
    result = pydicom.dcmread(job["rtstruct_path"])
    original = ledger.job(1)
    ct = pydicom.dcmread(next(Path(original["ct_dir"]).iterdir()), stop_before_pixels=True)
    assert result.PatientID == ct.PatientID == job["patient_id"] and job["study_uid"] == ct.StudyInstanceUID
    assert result.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0] \
        .RTReferencedSeriesSequence[0].SeriesInstanceUID == original.series_uid
    assert [e.detail["step"] for e in ledger.events(job.id) if e.kind == "step"] == ["reidentify"]
    numbers = {int(rc.ReferencedROINumber) for rc in result.ROIContourSequence if rc.get("ContourSequence")}
    contoured = {str(roi.ROIName) for roi in result.StructureSetROISequence if int(roi.ROINumber) in numbers}
    assert set(job.verification["dice"]) == contoured  # the round trip was checked for every contoured ROI ...
    assert min(job.verification["dice"].values()) >= 0.99  # ... against its masks on the de-identified CT
    assert result.SOPInstanceUID.startswith("1.2.826.0.1.3680043.10.999.")
    assert result.SeriesInstanceUID.startswith("1.2.826.0.1.3680043.10.999.")
    assert review.approve(ledger, job.id, "Dr Test").state is JobState.APPROVED


def test_frame_of_reference_of_another_known_uid_is_held(gateway):
    """Every UID is known to the map, but the Frame of Reference is the study's: not the CT sent out, held."""
    config, ledger, folder = gateway
    rs = pydicom.dcmread(folder / "service.dcm")
    rs.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID = rs.StudyInstanceUID
    for roi in rs.StructureSetROISequence:
        roi.ReferencedFrameOfReferenceUID = rs.StudyInstanceUID
    job = _return(config, ledger, folder, rs, 3)
    assert job.state is JobState.FAILED and job["reason"].startswith("held, not forwarded")
    assert "another Frame of Reference" in job["reason"] and not job["rtstruct_path"]
    assert not list((folder / "spool" / "jobs" / "3").glob("out/*.dcm"))


def test_images_from_the_service_are_never_sent_back_out(gateway, small_phantom):
    config, ledger, folder = gateway
    job_dir = folder / "spool" / "jobs" / "4"
    shutil.copytree(folder / "deid", job_dir / "ct")
    job, _ = ledger.add_job("9.9.9", source="dicom:SERVICE", ct_dir=str(job_dir / "ct"), out_dir=str(job_dir / "out"))
    job = process_gateway_job(ledger, job, config)
    assert job.state is JobState.FAILED and "only structure sets" in job["reason"]
    assert not (job_dir / "out").exists()
