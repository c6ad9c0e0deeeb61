"""RTSTRUCT verifier: each rule fires on a mutated copy of our writer's output and stays quiet on the
original; shared vendor files give the findings their known defects call for; dciodvfy agrees.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from OARContourLib.ct.load import load_ct
from OARContourLib.ct.model import CTVolume
from OARContourLib.errors import InputError
from OARContourLib.findings import Severity
from OARContourLib.naming.appearance import coded_concept
from OARContourLib.rtstruct.model import ExportOptions, RoiType, Structure
from OARContourLib.rtstruct.profiles import PROFILE_IDS, Setting, load_profile
from OARContourLib.rtstruct.rules import RULES, VerificationContext
from OARContourLib.rtstruct.rules.intersections import find_self_intersections
from OARContourLib.rtstruct.rules.semantics import MultipleExternalRule
from OARContourLib.rtstruct.verify import SCHEMA, verify_rtstruct
from OARContourLib.rtstruct.write import write_rtstruct
from pydicom import config
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag
from pydicom.uid import MRImageStorage, generate_uid
from pydicom.valuerep import DSfloat
from testsupport.validators import dciodvfy_errors

CONTOUR_DATA = Tag(0x3006, 0x0050)
ROI = "Heart"


# --- fixtures: the small phantom, its masks and our writer's RTSTRUCT ---------------------------------

@pytest.fixture(scope="module")
def ct(small_phantom) -> CTVolume:
    return load_ct(small_phantom.ct_dir)


@pytest.fixture(scope="module")
def masks(small_phantom) -> dict[str, np.ndarray]:
    return {name: sitk.GetArrayFromImage(sitk.ReadImage(str(path))).astype(bool)
            for name, path in small_phantom.truth_files.items()}


def structures(masks: dict[str, np.ndarray]) -> list[Structure]:
    """With the SNOMED CT code of each name that has one, so the verifier sees written codes."""
    return [Structure(name, mask, roi_type=RoiType.EXTERNAL if name == "Body" else RoiType.ORGAN,
                      code=coded_concept(name)) for name, mask in masks.items()]


@pytest.fixture(scope="module")
def clean_file(ct, masks, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("verify") / "rs.dcm"
    write_rtstruct(path, ct, structures(masks))
    return path


@pytest.fixture(scope="module")
def clean_report(clean_file, ct, masks):
    return verify_rtstruct(clean_file, ct, source_masks=masks)


# --- editing helpers (on an in-memory copy read from the clean file) -------------------------------

def roi_number(ds: Dataset, name: str) -> int:
    return next(int(r.ROINumber) for r in ds.StructureSetROISequence if r.ROIName == name)


def roi_item(ds: Dataset, name: str = ROI) -> Dataset:
    return next(r for r in ds.StructureSetROISequence if r.ROIName == name)


def roi_contour(ds: Dataset, name: str = ROI) -> Dataset:
    return next(c for c in ds.ROIContourSequence if int(c.ReferencedROINumber) == roi_number(ds, name))


def observation(ds: Dataset, name: str = ROI) -> Dataset:
    return next(o for o in ds.RTROIObservationsSequence if int(o.ReferencedROINumber) == roi_number(ds, name))


def contour(ds: Dataset, name: str = ROI, index: int = 0) -> Dataset:
    return roi_contour(ds, name).ContourSequence[index]


def series_item(ds: Dataset) -> Dataset:
    return ds.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0].RTReferencedSeriesSequence[0]


def set_contour_text(item: Dataset, values: list[str], points: int | None = None) -> None:
    data = "\\".join(values).encode("ascii")
    data += b" " * (len(data) % 2)
    item[CONTOUR_DATA] = RawDataElement(CONTOUR_DATA, "DS", len(data), data, 0, False, True)
    item.NumberOfContourPoints = len(values) // 3 if points is None else points


def set_index_points(item: Dataset, ct: CTVolume, ij: list[tuple[float, float]], k: int) -> None:
    """Replace a contour by a polygon given in (i, j) index coordinates on slice k."""
    homogeneous = np.array([[i, j, k, 1.0] for i, j in ij])
    lps = (ct.geometry.ijk_to_lps() @ homogeneous.T).T[:, :3]
    set_contour_text(item, [f"{v:.2f}" for v in lps.ravel()])


def slice_of(item: Dataset, ct: CTVolume) -> int:
    uid = item.ContourImageSequence[0].ReferencedSOPInstanceUID
    return next(k for k, s in enumerate(ct.slices) if s.sop_instance_uid == uid)


def shift_points(item: Dataset, dz: float = 0.0, first_only: bool = False) -> None:
    points = np.array(item.ContourData, dtype=float).reshape(-1, 3)
    points[:1 if first_only else None, 2] += dz
    set_contour_text(item, [f"{v:.2f}" for v in points.ravel()])


# --- one mutation per rule: what it changes and which ROI the finding names --------------------------

Mutation = Callable[[Dataset, CTVolume, dict], "dict[str, Any] | None"]


def _fields(ds: Dataset, **values: Any) -> None:
    for keyword, value in values.items():
        setattr(ds, keyword, value)


def _too_few(ds, ct, masks):
    points = np.array(contour(ds).ContourData, dtype=float).reshape(-1, 3)[:2]
    set_contour_text(contour(ds), [f"{v:.2f}" for v in points.ravel()])


def _repeat_first(ds, ct, masks):
    points = np.array(contour(ds).ContourData, dtype=float).reshape(-1, 3)
    set_contour_text(contour(ds), [f"{v:.2f}" for v in np.vstack([points, points[:1]]).ravel()])


def _other_slice(ds, ct, masks):
    k = slice_of(contour(ds), ct)
    contour(ds).ContourImageSequence[0].ReferencedSOPInstanceUID = ct.slices[k - 1 if k else 1].sop_instance_uid


def _bowtie(ds, ct, masks):
    set_index_points(contour(ds), ct, [(10, 10), (20, 20), (20, 10), (10, 20)], slice_of(contour(ds), ct))


def _outside(ds, ct, masks):
    set_index_points(contour(ds), ct, [(-10, 10), (5, 10), (5, 20), (-10, 20)], slice_of(contour(ds), ct))


def _long_ds(ds, ct, masks):
    values = [f"{v:.2f}" for v in np.array(contour(ds).ContourData, dtype=float)]
    values[0] = values[0].ljust(18, "0")  # the same number in 18 bytes, e.g. 32.00000000000000
    set_contour_text(contour(ds), values)


def _huge_contour(ds, ct, masks):
    angle = np.linspace(0, 2 * np.pi, 4000, endpoint=False)
    set_index_points(contour(ds), ct, list(zip(32 + 10 * np.cos(angle), 32 + 10 * np.sin(angle))),
                     slice_of(contour(ds), ct))


def _unreadable(ds, ct, masks):
    set_contour_text(contour(ds), ["1.0", "abc", "2.0"])


def _count_mismatch(ds, ct, masks):
    contour(ds).NumberOfContourPoints = int(contour(ds).NumberOfContourPoints) + 1


def _low_dice(ds, ct, masks):
    edited = dict(masks)
    edited[ROI] = masks[ROI].copy()
    edited[ROI][: masks[ROI].shape[0] // 2 + 2] = False
    return {"source_masks": edited}


def _extra_mask(ds, ct, masks):
    return {"source_masks": {**masks, "Extra": masks["Body"]}}


MUTATIONS: dict[str, tuple[Mutation, str | None]] = {
    "FRAME_OF_REFERENCE_MISMATCH": (lambda ds, ct, m: _fields(roi_item(ds), ReferencedFrameOfReferenceUID=generate_uid()), ROI),
    "STUDY_MISMATCH": (lambda ds, ct, m: _fields(ds, StudyInstanceUID=generate_uid()), None),
    "REFERENCED_SERIES_ABSENT": (lambda ds, ct, m: delattr(ds.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0], "RTReferencedSeriesSequence"), None),
    "REFERENCED_SERIES_MISMATCH": (lambda ds, ct, m: _fields(series_item(ds), SeriesInstanceUID=generate_uid()), None),
    "SERIES_IMAGE_MISSING": (lambda ds, ct, m: _fields(series_item(ds).ContourImageSequence[0], ReferencedSOPInstanceUID=generate_uid()), None),
    "CONTOUR_IMAGE_SEQUENCE_ABSENT": (lambda ds, ct, m: delattr(contour(ds), "ContourImageSequence"), ROI),
    "CONTOUR_IMAGE_MISSING": (lambda ds, ct, m: _fields(contour(ds).ContourImageSequence[0], ReferencedSOPInstanceUID=generate_uid()), ROI),
    "CONTOUR_IMAGE_CLASS_MISMATCH": (lambda ds, ct, m: _fields(contour(ds).ContourImageSequence[0], ReferencedSOPClassUID=MRImageStorage), ROI),
    "CONTOUR_GEOMETRIC_TYPE": (lambda ds, ct, m: _fields(contour(ds), ContourGeometricType="OPEN_PLANAR"), ROI),
    "CONTOUR_TOO_FEW_POINTS": (_too_few, ROI),
    "CONTOUR_FIRST_POINT_REPEATED": (_repeat_first, ROI),
    "CONTOUR_NOT_PLANAR": (lambda ds, ct, m: shift_points(contour(ds), 3.0, first_only=True), ROI),
    "CONTOUR_NOT_ON_SLICE": (lambda ds, ct, m: shift_points(contour(ds), 2.0), ROI),
    "CONTOUR_IMAGE_MISMATCH": (_other_slice, ROI),
    "CONTOUR_SELF_INTERSECTION": (_bowtie, ROI),
    "CONTOUR_OUTSIDE_CT": (_outside, ROI),
    "DS_VALUE_TOO_LONG": (_long_ds, ROI),
    "CONTOUR_DATA_TOO_LONG": (_huge_contour, ROI),
    "CONTOUR_POINT_COUNT_MISMATCH": (_count_mismatch, ROI),
    "CONTOUR_DATA_UNREADABLE": (_unreadable, ROI),
    "VALUE_TOO_LONG": (lambda ds, ct, m: _fields(ds, StudyID="S" * 17), None),
    "ROI_NAME_EMPTY": (lambda ds, ct, m: _fields(roi_item(ds), ROIName=""), "#{number}"),
    "ROI_NAME_SPACES": (lambda ds, ct, m: _fields(roi_item(ds), ROIName=" Heart"), " Heart"),
    "ROI_NAME_CHARACTERS": (lambda ds, ct, m: _fields(roi_item(ds), ROIName="Heart L"), "Heart L"),
    "ROI_NAME_TOO_LONG": (lambda ds, ct, m: _fields(roi_item(ds), ROIName="Heart_0123456789ab") or {"tps": "eclipse"},
                          "Heart_0123456789ab"),
    "DUPLICATE_ROI_NAME": (lambda ds, ct, m: _fields(roi_item(ds), ROIName="LIVER"), "LIVER"),
    "ROI_OBSERVATION_LABEL_TOO_LONG": (lambda ds, ct, m: _fields(observation(ds), ROIObservationLabel="L" * 17), ROI),
    "EMPTY_ROI": (lambda ds, ct, m: delattr(roi_contour(ds), "ContourSequence"), ROI),
    "ROI_INTERPRETED_TYPE_MISSING": (lambda ds, ct, m: _fields(observation(ds), RTROIInterpretedType=""), ROI),
    "ROI_INTERPRETED_TYPE_UNKNOWN": (lambda ds, ct, m: _fields(observation(ds), RTROIInterpretedType="OAR"), ROI),
    "MULTIPLE_EXTERNAL": (lambda ds, ct, m: _fields(observation(ds, "Skin"), RTROIInterpretedType="EXTERNAL"), None),
    "NO_EXTERNAL": (lambda ds, ct, m: _fields(observation(ds, "Body"), RTROIInterpretedType="ORGAN"), None),
    "DUPLICATE_ROI_NUMBER": (lambda ds, ct, m: _fields(roi_item(ds, "Liver"), ROINumber=roi_number(ds, ROI)), None),
    "UNKNOWN_ROI_REFERENCE": (lambda ds, ct, m: _fields(roi_contour(ds), ReferencedROINumber=999), None),
    "STRUCTURE_SET_LABEL_TOO_LONG": (lambda ds, ct, m: _fields(ds, StructureSetLabel="L" * 17), None),
    "ROI_CODE_INVALID": (lambda ds, ct, m: _fields(observation(ds).RTROIIdentificationCodeSequence[0], CodeMeaning=""),
                         ROI),
    "TYPE1_ATTRIBUTE_MISSING": (lambda ds, ct, m: delattr(ds, "FrameOfReferenceUID"), None),
    "TYPE2_ATTRIBUTE_MISSING": (lambda ds, ct, m: delattr(ds, "OperatorsName"), None),
    "SOP_INSTANCE_UID_EQUALS_SERIES": (lambda ds, ct, m: _fields(ds, SOPInstanceUID=ds.SeriesInstanceUID), None),
    "MODALITY_NOT_RTSTRUCT": (lambda ds, ct, m: _fields(ds, Modality="RTPLAN"), None),
    "ROUND_TRIP_DICE_LOW": (_low_dice, ROI),
    "ROUND_TRIP_ROI_MISSING": (_extra_mask, "Extra"),
}


def mutated_report(clean_file: Path, ct: CTVolume, masks: dict, code: str):
    mutate, _ = MUTATIONS[code]
    ds = pydicom.dcmread(clean_file)
    with config.disable_value_validation():
        options = mutate(ds, ct, masks) or {}
    return verify_rtstruct(ds, ct, **options)


def test_every_rule_has_a_mutation_that_fires_it() -> None:
    codes = [rule.code for rule in RULES]
    assert len(codes) == len(set(codes)), "rule codes must be unique"
    assert set(codes) == set(MUTATIONS)


@pytest.mark.parametrize("code", list(MUTATIONS))
def test_rule_fires_on_its_mutation(code: str, clean_file, ct, masks) -> None:
    report = mutated_report(clean_file, ct, masks, code)
    rule = next(r for r in RULES if r.code == code)
    found = [f for f in report.findings if f.code == code]
    assert found, f"{code} did not fire; findings: {[f.code for f in report.findings]}"
    assert found[0].severity is rule.severity and found[0].hint
    expected = MUTATIONS[code][1]
    if expected is not None:
        expected = expected.format(number=roi_number(pydicom.dcmread(clean_file), ROI))
    assert found[0].roi_name == expected
    assert report.has_errors is any(f.severity is Severity.ERROR for f in report.findings)


@pytest.mark.parametrize("code", list(MUTATIONS))
def test_rule_is_quiet_on_our_writer_output(code: str, clean_report) -> None:
    assert [f.message for f in clean_report.findings if f.code == code] == []


def test_clean_report_has_dice_one_and_documented_json(clean_report, masks) -> None:
    document = clean_report.to_dict()
    assert document["schema"] == SCHEMA == "oarcontour.verify/1"
    assert document["has_errors"] is False and document["findings"] == []
    non_empty = {name for name, mask in masks.items() if mask.any()}
    assert document["rois_checked"] == len(non_empty) and document["contours_checked"] > 100
    assert set(document["dice"]) == non_empty and set(document["dice"].values()) == {1.0}


@pytest.mark.parametrize("tps", PROFILE_IDS)
def test_writer_output_has_no_error_for_each_profile(tps: str, ct, masks, tmp_path) -> None:
    write_rtstruct(tmp_path / "rs.dcm", ct, structures(masks), ExportOptions(tps=tps))
    report = verify_rtstruct(tmp_path / "rs.dcm", ct, tps, source_masks=masks)
    assert not report.has_errors, [f.message for f in report.findings]
    assert {f.code for f in report.findings} <= {"EMPTY_ROI"}


def test_located_messages_name_roi_contour_and_slice(clean_file, ct, masks) -> None:
    report = mutated_report(clean_file, ct, masks, "CONTOUR_SELF_INTERSECTION")
    (finding,) = [f for f in report.findings if f.code == "CONTOUR_SELF_INTERSECTION"]
    k = slice_of(contour(pydicom.dcmread(clean_file)), ct)
    assert finding.slice_index == k
    assert f"ROI '{ROI}', 1 of" in finding.message and f"contour 1 on slice {k}: crosses itself" in finding.message


def test_ds_length_is_read_from_the_file_bytes(clean_file, ct, tmp_path) -> None:
    ds = pydicom.dcmread(clean_file)
    _long_ds(ds, ct, {})
    ds.save_as(tmp_path / "long.dcm")
    (finding,) = [f for f in verify_rtstruct(tmp_path / "long.dcm", ct).findings if f.code == "DS_VALUE_TOO_LONG"]
    assert "(18 bytes)" in finding.message


def test_converted_ds_values_are_measured_by_their_original_strings(clean_file, ct) -> None:
    ds = pydicom.dcmread(clean_file)
    with config.disable_value_validation():
        values = list(contour(ds).ContourData)  # converts the element: DSfloat with original_string
        assert verify_rtstruct(ds, ct).findings == ()
        values[0] = DSfloat(str(values[0]).ljust(18, "0"), validation_mode=config.IGNORE)
        contour(ds).ContourData = values
    assert [f.code for f in verify_rtstruct(ds, ct).findings] == ["DS_VALUE_TOO_LONG"]


def test_absent_interpreted_type_is_a_type2_error_and_a_type_warning(clean_file, ct) -> None:
    ds = pydicom.dcmread(clean_file)
    del observation(ds).RTROIInterpretedType
    found = {(f.code, f.severity, f.roi_name) for f in verify_rtstruct(ds, ct).findings}
    assert found == {("ROI_INTERPRETED_TYPE_MISSING", Severity.WARNING, ROI),
                     ("TYPE2_ATTRIBUTE_MISSING", Severity.ERROR, ROI)}


def test_plane_tolerance_accepts_rounding_and_rejects_a_tenth_of_a_millimetre(clean_file, ct) -> None:
    for dz, expected in ((0.005, set()), (0.1, {"CONTOUR_NOT_ON_SLICE"})):
        ds = pydicom.dcmread(clean_file)
        points = np.array(contour(ds).ContourData, dtype=float).reshape(-1, 3)
        points[:, 2] += dz
        set_contour_text(contour(ds), [f"{v:.3f}" for v in points.ravel()])
        assert {f.code for f in verify_rtstruct(ds, ct).findings} == expected


def test_multiple_external_is_a_warning_when_the_profile_allows_several(clean_file, ct) -> None:
    ds = pydicom.dcmread(clean_file)
    observation(ds, "Skin").RTROIInterpretedType = "EXTERNAL"
    generic = load_profile("generic")
    lenient = dataclasses.replace(generic, exactly_one_external=dataclasses.replace(
        generic.exactly_one_external, value=False))
    assert isinstance(lenient.exactly_one_external, Setting)
    (finding,) = MultipleExternalRule().check(VerificationContext(ds, ct, lenient))
    assert finding.severity is Severity.WARNING and "Body, Skin" in finding.message


def test_verify_never_modifies_its_input(clean_file, ct) -> None:
    before = hashlib.sha256(clean_file.read_bytes()).hexdigest()
    ds = pydicom.dcmread(clean_file)
    serialized = str(ds)
    verify_rtstruct(clean_file, ct)
    verify_rtstruct(ds, ct)
    assert hashlib.sha256(clean_file.read_bytes()).hexdigest() == before and str(ds) == serialized


def test_bad_input_raises_input_error(clean_file, ct, masks, tmp_path) -> None:
    with pytest.raises(InputError, match="not found"):
        verify_rtstruct(tmp_path / "missing.dcm", ct)
    with pytest.raises(InputError, match="not an RTSTRUCT"):
        verify_rtstruct(ct.slices[0].path, ct)
    (tmp_path / "text.dcm").write_text("not dicom")
    with pytest.raises(InputError, match="cannot be read as DICOM"):
        verify_rtstruct(tmp_path / "text.dcm", ct)
    with pytest.raises(InputError, match="Unknown TPS profile 'nope'"):
        verify_rtstruct(clean_file, ct, "nope")
    with pytest.raises(InputError, match="not on the CT grid"):
        verify_rtstruct(clean_file, ct, source_masks={ROI: masks[ROI][1:]})


# --- self-intersection classification ------------------------------------------------------------------

def _classify(*polygons: list[tuple[float, float]]):
    points = np.concatenate([np.array(p, dtype=float) for p in polygons])
    return find_self_intersections(points, np.r_[0, np.cumsum([len(p) for p in polygons])])


def test_crossing_and_same_direction_overlap_are_errors_keyhole_cuts_are_not() -> None:
    square = [(0, 0), (4, 0), (4, 4), (0, 4)]
    bowtie = [(0, 0), (2, 2), (2, 0), (0, 2)]
    keyhole = [(0, 0), (6, 0), (6, 3), (4, 3), (4, 2), (2, 2), (2, 4), (4, 4), (4, 3), (6, 3), (6, 6), (0, 6)]
    walked_twice = [(0, 0), (4, 0), (4, 2), (2, 2), (2, 0), (3, 0), (3, -1), (0, -1)]
    pinched = [(0, 0), (2, 0), (2, 2), (4, 2), (4, 4), (2, 4), (2, 2), (0, 2)]  # touches itself at (2, 2)
    result = _classify(square, bowtie, keyhole, walked_twice, pinched)
    assert result.has_error.tolist() == [False, True, False, True, False]
    assert result.crossings.tolist() == [0, 1, 0, 0, 0] and result.overlaps.tolist() == [0, 0, 0, 1, 0]
    assert result.retraced[2] == 1
    assert result.where[1].tolist() == [1.0, 1.0]


def test_keyhole_contours_of_our_writer_are_retraced_not_intersecting(clean_file, ct) -> None:
    context = VerificationContext(pydicom.dcmread(clean_file), ct, load_profile("generic"))
    result = _classify(*[context.frame.in_plane(c.points) for c in context.contours])
    keyholes = {context.contours[m].roi_name for m in np.flatnonzero(result.retraced)}
    assert {"Heart", "Liver", "Lung_L", "Lung_R"} <= keyholes, "organs with holes are written as keyholes"
    assert not result.has_error.any()


# --- the shared vendor RTSTRUCTs ------------------------------------------------------------------------

SHARED_FILES = {
    "ibsi_sts002/dicom/mask/RS.dcm": "ibsi_sts002/dicom/image",
    "varian_aria_4slice/dicom/RS_Body_SpinalCord.dcm": "varian_aria_4slice/dicom",
    "vendor_rtstructs/dicompyler_breast/rtss.dcm": "vendor_rtstructs/dicompyler_breast",
    "vendor_rtstructs/mim7_rtutils/mim_rt.dcm": "vendor_rtstructs/mim7_rtutils",
    "vendor_rtstructs/mim7_rtutils/rtutils_rt.dcm": "vendor_rtstructs/mim7_rtutils",
    "vendor_rtstructs/raystation9_cheese/RS1.2.752.243.1.1.20210208111802158.1580.88111.dcm":
        "vendor_rtstructs/raystation9_cheese",
}
#: dciodvfy error lines and the finding that reports the same defect.
DCIODVFY_EQUIVALENTS = {"Type 1 Required": "TYPE1_ATTRIBUTE_MISSING", "Type 2 Required": "TYPE2_ATTRIBUTE_MISSING",
                        "same value as SeriesInstanceUID": "SOP_INSTANCE_UID_EQUALS_SERIES",
                        "Length invalid": "VALUE_TOO_LONG"}


def shared_report(shared_data: Path, rtstruct: str, tps: str = "generic"):
    return verify_rtstruct(shared_data / rtstruct, load_ct(shared_data / SHARED_FILES[rtstruct]), tps)


def codes(report, severity: Severity | None = None) -> set[str]:
    return {f.code for f in report.findings if severity is None or f.severity is severity}


def test_every_shared_rtstruct_is_listed(shared_data: Path) -> None:
    found = {str(p.relative_to(shared_data)) for p in shared_data.rglob("*.dcm")
             if pydicom.dcmread(p, stop_before_pixels=True, specific_tags=["Modality"]).get("Modality") == "RTSTRUCT"}
    assert found == set(SHARED_FILES)


@pytest.mark.parametrize("rtstruct", list(SHARED_FILES))
def test_shared_rtstruct_findings_cover_dciodvfy_errors(rtstruct: str, shared_data: Path) -> None:
    report = shared_report(shared_data, rtstruct)
    for line in dciodvfy_errors(shared_data / rtstruct):
        code = next((c for text, c in DCIODVFY_EQUIVALENTS.items() if text in line), None)
        if code and "(0x0002," not in line:  # file meta is not the dataset's business
            element = line.split("Element=<")[1].split(">")[0] if "Element=<" in line else ""
            assert any(f.code == code and element in f.message for f in report.findings), line


def test_ibsi_missing_sop_references_are_errors(shared_data: Path) -> None:
    report = shared_report(shared_data, "ibsi_sts002/dicom/mask/RS.dcm")
    by_code = {f.code: f for f in report.findings}
    assert by_code["SERIES_IMAGE_MISSING"].severity is Severity.ERROR
    assert "267 of 267 images" in by_code["SERIES_IMAGE_MISSING"].message
    assert "16 of 16 contours" in by_code["CONTOUR_IMAGE_MISSING"].message
    assert by_code["CONTOUR_IMAGE_MISSING"].roi_name == "GTV_Mass_CT"
    # The planes themselves match the CT slices: only the UIDs are foreign.
    assert not codes(report) & {"CONTOUR_NOT_ON_SLICE", "FRAME_OF_REFERENCE_MISMATCH", "REFERENCED_SERIES_MISMATCH"}


def test_varian_aria_export_is_clean(shared_data: Path) -> None:
    for tps in ("generic", "eclipse"):
        assert shared_report(shared_data, "varian_aria_4slice/dicom/RS_Body_SpinalCord.dcm", tps).findings == ()


def test_rtutils_file_reports_empty_types_and_frame_of_reference(shared_data: Path) -> None:
    report = shared_report(shared_data, "vendor_rtstructs/mim7_rtutils/rtutils_rt.dcm")
    messages = {f.code: f.message for f in report.findings}
    assert next(f for f in report.findings if f.code == "ROI_INTERPRETED_TYPE_MISSING").roi_name == "ROI-1"
    assert "FrameOfReferenceUID" in messages["TYPE1_ATTRIBUTE_MISSING"]
    assert any("PositionReferenceIndicator" in f.message for f in report.findings if f.code == "TYPE2_ATTRIBUTE_MISSING")
    # rt-utils generated a new Frame of Reference instead of copying the CT's.
    assert codes(report, Severity.ERROR) >= {"FRAME_OF_REFERENCE_MISMATCH"}


def test_partial_series_report_missing_images_once_per_roi(shared_data: Path) -> None:
    report = shared_report(shared_data, "vendor_rtstructs/raystation9_cheese/"
                                        "RS1.2.752.243.1.1.20210208111802158.1580.88111.dcm")
    missing = [f for f in report.findings if f.code == "CONTOUR_IMAGE_MISSING"]
    assert [f.roi_name for f in missing] == ["External", "max"]
    assert "387 of 393 contours" in missing[0].message
    assert "CONTOUR_NOT_ON_SLICE" not in codes(report)
    assert [f.message for f in report.findings if f.code == "TYPE2_ATTRIBUTE_MISSING"] == [
        "OperatorsName is absent (Type 2: may be empty, must be present)."]


def test_dicompyler_file_reports_empty_roi_and_names_with_spaces(shared_data: Path) -> None:
    report = shared_report(shared_data, "vendor_rtstructs/dicompyler_breast/rtss.dcm")
    assert [f.roi_name for f in report.findings if f.code == "EMPTY_ROI"] == ["Areola"]
    assert {f.roi_name for f in report.findings if f.code == "ROI_NAME_CHARACTERS"} == {
        "Lt Lung", "Tumor Bed", "Tumor Bed Block"}


@pytest.mark.parametrize("rtstruct, minimum", [("ibsi_sts002/dicom/mask/RS.dcm", 1.0),
                                               ("varian_aria_4slice/dicom/RS_Body_SpinalCord.dcm", 0.9999)])
def test_round_trip_rasteriser_agrees_with_plastimatch(rtstruct: str, minimum: float, shared_data: Path) -> None:
    folder = shared_data / rtstruct.split("/")[0] / "plastimatch_masks"
    masks = {p.name.removesuffix(".nii.gz"): sitk.GetArrayFromImage(sitk.ReadImage(str(p))).astype(bool)
             for p in folder.glob("*.nii.gz")}
    report = verify_rtstruct(shared_data / rtstruct, load_ct(shared_data / SHARED_FILES[rtstruct]), source_masks=masks)
    assert set(report.dice) == set(masks) and min(report.dice.values()) >= minimum
    assert not {f.code for f in report.findings} & {"ROUND_TRIP_DICE_LOW", "ROUND_TRIP_ROI_MISSING"}


def test_dciodvfy_finds_no_error_in_our_writer_output(clean_file) -> None:
    assert dciodvfy_errors(clean_file) == []


def test_our_output_carries_snomed_codes_where_the_profile_allows(clean_file, ct, masks, tmp_path) -> None:
    observations = {int(o.ReferencedROINumber): o for o in pydicom.dcmread(clean_file).RTROIObservationsSequence}
    heart = observations[roi_number(pydicom.dcmread(clean_file), ROI)].RTROIIdentificationCodeSequence[0]
    assert (heart.CodeValue, heart.CodingSchemeDesignator) == (coded_concept(ROI).value, "SCT")
    assert dciodvfy_errors(clean_file) == []
    write_rtstruct(tmp_path / "eclipse.dcm", ct, structures(masks), ExportOptions(tps="eclipse"))
    eclipse = pydicom.dcmread(tmp_path / "eclipse.dcm")
    assert not any("RTROIIdentificationCodeSequence" in o for o in eclipse.RTROIObservationsSequence)


def test_code_sequence_problems() -> None:
    from OARContourLib.rtstruct.rules.semantics import code_sequence_problem

    def item(**values) -> Dataset:
        ds = Dataset()
        for keyword, value in values.items():
            setattr(ds, keyword, value)
        return ds

    good = item(CodeValue="2748008", CodingSchemeDesignator="SCT", CodeMeaning="Spinal cord structure")
    assert code_sequence_problem([good]) == ""
    assert "2 items" in code_sequence_problem([good, good])
    assert "not a number" in code_sequence_problem([item(CodeValue="T-1", CodingSchemeDesignator="SCT",
                                                         CodeMeaning="x")])
    assert code_sequence_problem([item(CodingSchemeDesignator="99VMS", CodeMeaning="x")]) == "no code value"
