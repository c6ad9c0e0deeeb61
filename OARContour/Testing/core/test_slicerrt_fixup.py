"""Correcting and re-referencing SlicerRT's RTSTRUCT export (rtstruct.slicerrt_fixup).

The input stands in for SlicerRT's export: plastimatch's ``convert --output-dicom`` runs the writer
SlicerRT uses (Plastimatch ``Rt_study::save_dicom``) on a small phantom CT and its true masks. The
first test checks that it has the properties the fix-up exists for.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from OARContourLib.ct.load import load_ct
from OARContourLib.ct.model import CTVolume
from OARContourLib.errors import InputError
from OARContourLib.rtstruct.dataset import PATIENT_STUDY_KEYWORDS
from OARContourLib.rtstruct.model import GenerationAlgorithm, RoiType
from OARContourLib.rtstruct.parse import contour_points
from OARContourLib.rtstruct.read import read_rtstruct
from OARContourLib.rtstruct.roi_metadata import RoiMetadata
from OARContourLib.rtstruct.slicerrt_fixup import fix_slicerrt_rtstruct
from OARContourLib.rtstruct.verify import verify_rtstruct
from testsupport.series_factory import edit_all
from testsupport.slicerrt_standin import plastimatch_rt_study, rtstruct_in
from testsupport.validators import dciodvfy_errors, dice

METADATA = {
    "Body": RoiMetadata(RoiType.EXTERNAL, GenerationAlgorithm.AUTOMATIC, "OARContour classical"),
    "Heart": RoiMetadata(RoiType.ORGAN, GenerationAlgorithm.SEMIAUTOMATIC, "edited", "Doe^Jane"),
    "Lung_L": RoiMetadata(RoiType.ORGAN, GenerationAlgorithm.AUTOMATIC),
    "Lung_R": RoiMetadata(RoiType.ORGAN, GenerationAlgorithm.MANUAL),
    "SpinalCord": RoiMetadata(RoiType.AVOIDANCE, GenerationAlgorithm.AUTOMATIC),
}


@dataclass(frozen=True)
class SlicerRTExport:
    ct_dir: Path
    ct: CTVolume
    copy_dir: Path
    copy: CTVolume
    rtstruct: Path
    masks: dict[str, np.ndarray]


@pytest.fixture(scope="module")
def plastimatch_export(small_phantom, tmp_path_factory: pytest.TempPathFactory) -> SlicerRTExport:
    """Plastimatch output standing in for SlicerRT's (same writer): new CT copy + RTSTRUCT on it."""
    masks = {name: sitk.GetArrayFromImage(sitk.ReadImage(str(small_phantom.truth_files[name]))).astype(bool)
             for name in METADATA}
    out = plastimatch_rt_study(small_phantom.ct_dir, masks, tmp_path_factory.mktemp("slicerrt") / "export")
    return SlicerRTExport(small_phantom.ct_dir, load_ct(small_phantom.ct_dir), out, load_ct(out), rtstruct_in(out),
                          masks)


@pytest.fixture(scope="module")
def fixed(plastimatch_export: SlicerRTExport, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("fixed") / "RS_Fixed.dcm"
    fix_slicerrt_rtstruct(plastimatch_export.rtstruct, target, plastimatch_export.ct, METADATA,
                          structure_set_label="Fixed", duplicate_ct=plastimatch_export.copy)
    return target


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_stand_in_has_what_slicerrt_export_gets_wrong(plastimatch_export: SlicerRTExport) -> None:
    rs = pydicom.dcmread(plastimatch_export.rtstruct)
    original, copy = plastimatch_export.ct.reference, plastimatch_export.copy.reference
    assert copy.frame_of_reference_uid != original.frame_of_reference_uid
    assert copy.series_instance_uid != original.series_instance_uid
    assert rs.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID == copy.frame_of_reference_uid
    assert {str(o.RTROIInterpretedType) for o in rs.RTROIObservationsSequence} == {""}
    assert {str(r.ROIGenerationAlgorithm) for r in rs.StructureSetROISequence} == {""}
    assert (rs.Manufacturer, rs.StructureSetLabel) == ("Plastimatch", "AutoSS")
    assert rs.PatientID != original.attributes["PatientID"]
    assert dciodvfy_errors(plastimatch_export.rtstruct)  # e.g. no top-level FrameOfReferenceUID


def test_every_reference_points_at_the_original_ct(plastimatch_export: SlicerRTExport, fixed: Path) -> None:
    rs = pydicom.dcmread(fixed)
    ct = plastimatch_export.ct
    by_uid = {s.sop_instance_uid: s for s in ct.slices}
    (frame,) = rs.ReferencedFrameOfReferenceSequence
    assert frame.FrameOfReferenceUID == rs.FrameOfReferenceUID == ct.reference.frame_of_reference_uid
    (study,) = frame.RTReferencedStudySequence
    assert study.ReferencedSOPInstanceUID == rs.StudyInstanceUID == ct.reference.study_instance_uid
    (series,) = study.RTReferencedSeriesSequence
    assert series.SeriesInstanceUID == ct.reference.series_instance_uid
    assert [i.ReferencedSOPInstanceUID for i in series.ContourImageSequence] == [s.sop_instance_uid for s in ct.slices]
    assert {r.ReferencedFrameOfReferenceUID for r in rs.StructureSetROISequence} == {ct.reference.frame_of_reference_uid}
    contours = [c for roi in rs.ROIContourSequence for c in roi.ContourSequence]
    assert len(contours) > len(METADATA)
    for contour in contours:
        (image,) = contour.ContourImageSequence
        slice_ = by_uid[image.ReferencedSOPInstanceUID]  # KeyError: not an original slice
        assert image.ReferencedSOPClassUID == slice_.sop_class_uid
        np.testing.assert_allclose(contour_points(contour)[:, 2], slice_.image_position_patient[2], atol=1e-3)
    copy_uids = {plastimatch_export.copy.reference.series_instance_uid,
                 plastimatch_export.copy.reference.frame_of_reference_uid,
                 *(s.sop_instance_uid for s in plastimatch_export.copy.slices)}
    assert not copy_uids & set(_all_uids(rs))


def _all_uids(ds: pydicom.Dataset) -> list[str]:
    found = []
    for element in ds.iterall():
        if element.VR == "UI" and element.value:
            found.append(str(element.value))
    return found


def test_roi_semantics_are_set_as_given(fixed: Path) -> None:
    rs = pydicom.dcmread(fixed)
    names = {int(r.ROINumber): str(r.ROIName) for r in rs.StructureSetROISequence}
    assert sorted(names.values()) == sorted(METADATA)
    for roi in rs.StructureSetROISequence:
        expected = METADATA[roi.ROIName]
        assert roi.ROIGenerationAlgorithm == expected.algorithm.value
        assert roi.get("ROIGenerationDescription", "") == expected.description
    for observation in rs.RTROIObservationsSequence:
        expected = METADATA[names[int(observation.ReferencedROINumber)]]
        assert observation.RTROIInterpretedType == expected.roi_type.value
        assert str(observation.ROIInterpreter) == expected.interpreter
    assert (rs.StructureSetLabel, rs.StructureSetName) == ("Fixed", "Fixed")


def test_patient_and_study_come_from_the_original_ct(plastimatch_export: SlicerRTExport, fixed: Path) -> None:
    rs = pydicom.dcmread(fixed)
    original = pydicom.dcmread(plastimatch_export.ct.slices[0].path, stop_before_pixels=True)
    for keyword in (*PATIENT_STUDY_KEYWORDS, "StudyInstanceUID"):
        assert str(rs.get(keyword, "")) == str(original.get(keyword, "")), keyword
    assert rs.SpecificCharacterSet
    source = pydicom.dcmread(plastimatch_export.rtstruct)
    assert rs.SOPInstanceUID not in (source.SOPInstanceUID, rs.SeriesInstanceUID)
    assert rs.file_meta.MediaStorageSOPInstanceUID == rs.SOPInstanceUID
    assert rs.Manufacturer == "Plastimatch"  # it generated the contours; we are modifying equipment
    assert rs.ContributingEquipmentSequence[0].Manufacturer == "OARContour"
    assert any(str(v).startswith("OARContour") for v in rs.SoftwareVersions)


def test_verifier_and_dciodvfy_find_no_errors(plastimatch_export: SlicerRTExport, fixed: Path) -> None:
    report = verify_rtstruct(fixed, plastimatch_export.ct, source_masks=plastimatch_export.masks)
    assert not report.has_errors, [f.message for f in report.findings]
    assert set(report.dice) == set(METADATA) and min(report.dice.values()) >= 0.99
    assert dciodvfy_errors(fixed) == []


def test_masks_read_back_on_the_original_ct_equal_the_source(plastimatch_export: SlicerRTExport, fixed: Path) -> None:
    contents = read_rtstruct(fixed, plastimatch_export.ct)
    assert not contents.has_errors
    for name, mask in plastimatch_export.masks.items():
        assert mask.any()
        assert dice(contents.roi(name).mask, mask) >= 0.99, name


def test_the_input_file_is_never_modified(plastimatch_export: SlicerRTExport, tmp_path: Path) -> None:
    before = sha256(plastimatch_export.rtstruct)
    fix_slicerrt_rtstruct(plastimatch_export.rtstruct, tmp_path / "RS.dcm", plastimatch_export.ct, METADATA)
    assert sha256(plastimatch_export.rtstruct) == before
    with pytest.raises(InputError, match="input file"):
        fix_slicerrt_rtstruct(plastimatch_export.rtstruct, plastimatch_export.rtstruct, plastimatch_export.ct,
                              METADATA, overwrite=True)
    assert sha256(plastimatch_export.rtstruct) == before


def test_an_existing_target_needs_overwrite(plastimatch_export: SlicerRTExport, tmp_path: Path) -> None:
    target = tmp_path / "RS.dcm"
    target.write_bytes(b"old")
    with pytest.raises(InputError, match="exists"):
        fix_slicerrt_rtstruct(plastimatch_export.rtstruct, target, plastimatch_export.ct, METADATA)
    assert target.read_bytes() == b"old"


@pytest.mark.parametrize(("change", "message"), [
    (lambda i, ds: setattr(ds, "ImagePositionPatient", [*ds.ImagePositionPatient[:2], ds.ImagePositionPatient[2] + 3]),
     "slice 1 lies 3.000 mm away"),
    (lambda i, ds: setattr(ds, "PixelSpacing", [7.5, 7.5]), "pixel spacing"),
])
def test_a_copy_off_the_original_grid_is_refused(plastimatch_export: SlicerRTExport, small_ct_copy: Path,
                                                 tmp_path: Path, change, message: str) -> None:
    edit_all(small_ct_copy, change)
    moved = load_ct(small_ct_copy)
    target = tmp_path / "RS.dcm"
    with pytest.raises(InputError, match=message):
        fix_slicerrt_rtstruct(plastimatch_export.rtstruct, target, moved, METADATA, duplicate_ct=plastimatch_export.copy)
    assert not target.exists()


def test_contours_off_the_original_slices_are_refused_by_roi_and_position(
        plastimatch_export: SlicerRTExport, small_ct_copy: Path, tmp_path: Path) -> None:
    edit_all(small_ct_copy, lambda i, ds: setattr(
        ds, "ImagePositionPatient", [*ds.ImagePositionPatient[:2], ds.ImagePositionPatient[2] + 4]))
    target = tmp_path / "RS.dcm"
    with pytest.raises(InputError, match=r"ROI '\w+': a contour at -?\d+\.\d\d mm .* matches no slice"):
        fix_slicerrt_rtstruct(plastimatch_export.rtstruct, target, load_ct(small_ct_copy), METADATA)
    assert not target.exists()


def test_the_wrong_copy_folder_is_refused(plastimatch_export: SlicerRTExport, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not reference the CT copy"):
        fix_slicerrt_rtstruct(plastimatch_export.rtstruct, tmp_path / "RS.dcm", plastimatch_export.ct, METADATA,
                              duplicate_ct=plastimatch_export.ct)


def test_an_roi_without_metadata_is_refused_and_a_dropped_one_is_reported(
        plastimatch_export: SlicerRTExport, tmp_path: Path) -> None:
    partial = {k: v for k, v in METADATA.items() if k != "Heart"}
    with pytest.raises(InputError, match="Heart"):
        fix_slicerrt_rtstruct(plastimatch_export.rtstruct, tmp_path / "RS.dcm", plastimatch_export.ct, partial)
    extra = {**METADATA, "Esophagus": RoiMetadata(RoiType.ORGAN, GenerationAlgorithm.AUTOMATIC)}
    report = fix_slicerrt_rtstruct(plastimatch_export.rtstruct, tmp_path / "RS.dcm", plastimatch_export.ct, extra)
    assert [(f.code, f.roi_name) for f in report.findings] == [("ROI_NOT_EXPORTED", "Esophagus")]
    assert {r.name: r.roi_type for r in report.rois} == {k: v.roi_type.value for k, v in METADATA.items()}


def test_without_rereferencing_the_file_keeps_pointing_at_the_copy(plastimatch_export: SlicerRTExport,
                                                                    tmp_path: Path) -> None:
    target = tmp_path / "RS.dcm"
    fix_slicerrt_rtstruct(plastimatch_export.rtstruct, target, plastimatch_export.copy, METADATA,
                          rereference_to_ct=False)
    rs = pydicom.dcmread(target)
    source = pydicom.dcmread(plastimatch_export.rtstruct)
    assert rs.FrameOfReferenceUID == plastimatch_export.copy.reference.frame_of_reference_uid
    assert rs.PatientID == source.PatientID  # consistent with the copy's slices, not the original's
    assert {str(o.RTROIInterpretedType) for o in rs.RTROIObservationsSequence} == {"EXTERNAL", "ORGAN", "AVOIDANCE"}
    report = verify_rtstruct(target, plastimatch_export.copy, source_masks=plastimatch_export.masks)
    assert not report.has_errors, [f.message for f in report.findings]
    assert dciodvfy_errors(target) == []


@pytest.mark.parametrize("label", ["", "A label of 17 chr"])
def test_a_bad_label_is_refused(plastimatch_export: SlicerRTExport, tmp_path: Path, label: str) -> None:
    with pytest.raises(InputError, match="label"):
        fix_slicerrt_rtstruct(plastimatch_export.rtstruct, tmp_path / "RS.dcm", plastimatch_export.ct, METADATA,
                              structure_set_label=label)
    assert not (tmp_path / "RS.dcm").exists()
