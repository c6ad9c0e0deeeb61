"""RTSTRUCT writer checked by independent tools: dciodvfy, dcentvfy and plastimatch's rasteriser."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pydicom
import pytest
from OARContourLib.ct.load import load_ct
from OARContourLib.errors import ExportError, GeometryError, InputError, NamingError
from OARContourLib.name_rules import LabelProblem, label_ok, label_problem
from OARContourLib.phantom import build_phantom, write_phantom
from OARContourLib.rtstruct.contour_data import MAX_CONTOUR_DATA_BYTES
from OARContourLib.rtstruct.contours import HoleEncoding
from OARContourLib.rtstruct.model import CodedConcept, ExportOptions, GenerationAlgorithm, RoiType, Structure
from OARContourLib.rtstruct.profiles import EmptyRoiPolicy
from OARContourLib.rtstruct.rasterize import rasterize_packed
from OARContourLib.rtstruct.roi_types import default_roi_type
from OARContourLib.rtstruct.write import write_rtstruct
from testsupport.validators import dcentvfy_errors, dciodvfy_errors, dice, plastimatch_masks

GRID = dict(rows=96, columns=96, slices=30, pixel_spacing_mm=5.0, slice_spacing_mm=6.0, seed=3)


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory):
    result = write_phantom(tmp_path_factory.mktemp("rs") / "phantom", **GRID)
    volume = build_phantom(**GRID)
    return result, load_ct(result.ct_dir), volume.masks


def phantom_structures(masks: dict[str, np.ndarray]) -> list[Structure]:
    return [Structure(name, mask, roi_type=default_roi_type(name)) for name, mask in masks.items() if mask.any()]


def synthetic_structures(shape: tuple[int, int, int]) -> list[Structure]:
    """Rings, an island in a hole, several islands, specks, first/last-slice structures."""
    k, j, i = np.ogrid[: shape[0], : shape[1], : shape[2]]
    radius = np.hypot(j - shape[1] / 2, i - shape[2] / 2)
    ring = (radius > 8) & (radius < 20) & (k > 3) & (k < 12)
    nested = ((radius < 25) & ~((radius > 12) & (radius < 18)) & (k > 14) & (k < 20))
    islands = np.zeros(shape, bool)
    islands[5:8, 10:14, 10:14] = islands[5:8, 70:75, 70:76] = islands[6, 40:42, 80:83] = True
    speck = np.zeros(shape, bool)
    speck[10, 50, 50] = True
    edges = np.zeros(shape, bool)
    edges[0, 30:40, 30:40] = edges[-1, 60:64, 20:40] = True
    full_slice = np.zeros(shape, bool)
    full_slice[2] = True
    masks = {"Ring": ring, "IslandInHole": nested, "Islands": islands, "Speck": speck, "FirstLast": edges,
             "FullSlice": full_slice}
    return [Structure(name, mask) for name, mask in masks.items()]


def test_plastimatch_reproduces_every_structure(phantom, tmp_path: Path) -> None:
    result, ct, masks = phantom
    structures = phantom_structures(masks) + synthetic_structures(ct.hu.shape)
    out = tmp_path / "rs.dcm"
    write_rtstruct(out, ct, structures)  # keyhole holes: the default of every profile
    rasterised = plastimatch_masks(out, result.ct_dir, tmp_path / "pm")
    scores = {s.name: dice(rasterised.get(s.name, np.zeros_like(s.mask)), s.mask) for s in structures}
    assert min(scores.values()) >= 0.99, scores
    assert scores["Speck"] == 1.0 and scores["Ring"] == 1.0 and scores["FirstLast"] == 1.0


def test_nested_holes_are_exact_under_even_odd_but_plastimatch_fills_them(phantom, tmp_path: Path) -> None:
    """Why keyhole is the default: a reader that unions nested contours (plastimatch) fills holes."""
    result, ct, _ = phantom
    ring = next(s for s in synthetic_structures(ct.hu.shape) if s.name == "Ring")
    out = tmp_path / "rs.dcm"
    write_rtstruct(out, ct, [ring], ExportOptions(hole_encoding=HoleEncoding.NESTED))
    ds = pydicom.dcmread(out)
    assert len(ds.ROIContourSequence[0].ContourSequence) == 2 * 8  # outer + hole on each of 8 slices
    assert dice(_rasterise(ds, ct), ring.mask) == 1.0
    assert dice(plastimatch_masks(out, result.ct_dir, tmp_path / "pm")["Ring"], ring.mask) < 0.95


def test_output_passes_dciodvfy_and_references_the_original_ct(phantom, tmp_path: Path) -> None:
    result, ct, masks = phantom
    out = tmp_path / "rs.dcm"
    write_rtstruct(out, ct, phantom_structures(masks), ExportOptions(tps="eclipse"))
    assert dciodvfy_errors(out) == []
    ct_files = sorted(result.ct_dir.iterdir())
    # dcentvfy's only complaint is the RT Referenced Study item, whose "SOP Instance" is by definition
    # the Study Instance UID (the Eclipse reference file in ../shared shows the same line).
    errors = dcentvfy_errors([*ct_files, out])
    assert all(result.study_instance_uid in e and "Missing SOPInstanceUID" in e for e in errors), errors
    ds = pydicom.dcmread(out)
    assert ds.StudyInstanceUID == result.study_instance_uid
    assert ds.FrameOfReferenceUID == result.frame_of_reference_uid
    assert ds.SeriesInstanceUID not in (result.series_instance_uid, ds.SOPInstanceUID)
    series = ds.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0].RTReferencedSeriesSequence[0]
    assert series.SeriesInstanceUID == result.series_instance_uid
    assert [i.ReferencedSOPInstanceUID for i in series.ContourImageSequence] == [s.sop_instance_uid for s in ct.slices]
    assert ds.PatientID == ct.reference.attributes["PatientID"] and ds.Manufacturer == "OARContour"


def test_every_contour_lies_on_the_slice_it_references(phantom, tmp_path: Path) -> None:
    _, ct, masks = phantom
    out = tmp_path / "rs.dcm"
    write_rtstruct(out, ct, phantom_structures(masks))
    by_uid = {s.sop_instance_uid: s for s in ct.slices}
    normal = ct.geometry.direction_matrix[:, 2]
    for roi in pydicom.dcmread(out).ROIContourSequence:
        for contour in roi.ContourSequence:
            points = np.array(contour.ContourData, dtype=float).reshape(-1, 3)
            target = by_uid[contour.ContourImageSequence[0].ReferencedSOPInstanceUID]
            assert np.allclose(points @ normal, target.position_along_normal_mm, atol=0.01)
            assert contour.NumberOfContourPoints == len(points) >= 3
            assert not np.allclose(points[0], points[-1])  # first point not repeated


def test_ds_values_fit_16_bytes_at_awkward_spacing(tmp_path: Path) -> None:
    result = write_phantom(tmp_path / "ct", rows=64, columns=64, slices=8, pixel_spacing_mm=7.123456789,
                           slice_spacing_mm=3.3333333, seed=1)
    ct = load_ct(result.ct_dir)
    mask = np.zeros(ct.hu.shape, bool)
    mask[2:6, 10:50, 12:44] = True
    out = tmp_path / "rs.dcm"
    write_rtstruct(out, ct, [Structure("Box", mask)])
    raw = pydicom.dcmread(out).ROIContourSequence[0].ContourSequence[0]["ContourData"]
    values = [v.original_string for v in raw.value]
    assert values and max(len(v) for v in values) <= 16
    assert dciodvfy_errors(out) == []


def test_long_contours_are_split_below_65534_bytes_without_changing_voxels(tmp_path: Path) -> None:
    result = write_phantom(tmp_path / "ct", rows=512, columns=512, slices=2, pixel_spacing_mm=0.977,
                           slice_spacing_mm=3.0, seed=2)
    ct = load_ct(result.ct_dir)
    j, i = np.ogrid[:512, :512]
    distance = np.abs(j - 256) + np.abs(i - 256)
    comb = np.zeros(ct.hu.shape, bool)
    # A diamond ring: staircase edges have a corner at every voxel, and the keyhole joins outer and
    # inner boundary into one polygon of ~3400 points, over the 65534-byte limit.
    comb[0] = (distance < 240) & (distance > 200)
    out = tmp_path / "rs.dcm"
    write_rtstruct(out, ct, [Structure("Comb", comb)])
    contours = pydicom.dcmread(out, defer_size=None).ROIContourSequence[0].ContourSequence
    lengths = [len("\\".join(v.original_string for v in c.ContourData)) for c in contours]
    assert len(contours) > 1 and max(lengths) <= MAX_CONTOUR_DATA_BYTES
    masks = plastimatch_masks(out, result.ct_dir, tmp_path / "pm")
    assert dice(masks["Comb"], comb) == 1.0


def test_roi_semantics_are_written(phantom, tmp_path: Path) -> None:
    _, ct, masks = phantom
    cord = Structure("SpinalCord", masks["SpinalCord"], color=(0, 64, 128), roi_type=RoiType.ORGAN,
                     algorithm=GenerationAlgorithm.SEMIAUTOMATIC, description="classical engine 0.1",
                     code=CodedConcept("2748008", "SCT", "Spinal cord"))
    body = Structure("Body", masks["Body"], roi_type=RoiType.EXTERNAL)
    out = tmp_path / "rs.dcm"
    write_rtstruct(out, ct, [body, cord], ExportOptions(structure_set_label="Plan1"))
    ds = pydicom.dcmread(out)
    assert [r.ROIName for r in ds.StructureSetROISequence] == ["Body", "SpinalCord"]
    assert ds.StructureSetROISequence[1].ROIGenerationAlgorithm == "SEMIAUTOMATIC"
    assert ds.StructureSetROISequence[1].ROIGenerationDescription == "classical engine 0.1"
    observation = ds.RTROIObservationsSequence[1]
    assert observation.RTROIInterpretedType == "ORGAN" and ds.RTROIObservationsSequence[0].RTROIInterpretedType == "EXTERNAL"
    assert observation.RTROIIdentificationCodeSequence[0].CodeValue == "2748008"
    assert list(ds.ROIContourSequence[1].ROIDisplayColor) == [0, 64, 128]
    assert ds.StructureSetLabel == "Plan1" and ds.ApprovalStatus == "UNAPPROVED"
    assert ds.SoftwareVersions and ds.ManufacturerModelName == "OARContour"


def test_empty_structures_are_reported_and_follow_the_policy(phantom, tmp_path: Path) -> None:
    _, ct, masks = phantom
    empty = Structure("Empty", np.zeros(ct.hu.shape, bool))
    omitted = write_rtstruct(tmp_path / "a.dcm", ct, [Structure("Body", masks["Body"], roi_type=RoiType.EXTERNAL), empty])
    assert [f.code for f in omitted.findings] == ["EMPTY_ROI"] and not omitted.rois[1].written
    assert [r.ROIName for r in pydicom.dcmread(tmp_path / "a.dcm").StructureSetROISequence] == ["Body"]
    kept = write_rtstruct(tmp_path / "b.dcm", ct, [empty], ExportOptions(empty_roi_policy=EmptyRoiPolicy.WRITE))
    ds = pydicom.dcmread(tmp_path / "b.dcm")
    assert kept.rois[0].written and ds.StructureSetROISequence[0].ROIName == "Empty"
    assert "ContourSequence" not in ds.ROIContourSequence[0]
    assert {f.code for f in kept.findings} == {"EMPTY_ROI", "NO_EXTERNAL"}


@pytest.mark.parametrize("names, tps, message", [
    (["Lung_L", "LUNG_L"], "generic", "unique ignoring case"),
    (["SpinalCord_PRV05_L"], "eclipse", "characters \\(> 16"),
    (["Lt Parotid"], "generic", "characters outside"),
    (["Parotid_L "], "generic", "leading/trailing"),
])
def test_invalid_names_are_refused_before_writing(phantom, tmp_path: Path, names, tps, message) -> None:
    _, ct, masks = phantom
    structures = [Structure(n, masks["Heart"]) for n in names]
    with pytest.raises(NamingError, match=message):
        write_rtstruct(tmp_path / "rs.dcm", ct, structures, ExportOptions(tps=tps))
    assert not (tmp_path / "rs.dcm").exists()


@pytest.mark.parametrize("label, code, message", [
    ("L" * 17, "STRUCTURE_SET_LABEL_TOO_LONG", "must have 1–16 characters"),
    (" ", "STRUCTURE_SET_LABEL_TOO_LONG", "must have 1–16 characters"),
    ("Plan\\A", "INPUT_ERROR", "backslash or control characters"),
    ("Plan\nA", "INPUT_ERROR", "backslash or control characters"),
    ("Plan\x1bA", "INPUT_ERROR", "backslash or control characters"),
])
def test_invalid_labels_are_refused_before_writing(phantom, tmp_path: Path, label, code, message) -> None:
    _, ct, masks = phantom
    assert label_problem(label) is not None and not label_ok(label)
    with pytest.raises(InputError, match=message) as raised:
        write_rtstruct(tmp_path / "rs.dcm", ct, [Structure("Heart", masks["Heart"])],
                       ExportOptions(structure_set_label=label))
    assert raised.value.code == code and repr(label) in raised.value.message
    assert not (tmp_path / "rs.dcm").exists()


def test_label_rules_take_every_valid_sh() -> None:
    for label in ("OARContour", "L" * 16, "Plan 1/2 é", " padded "):
        assert label_problem(label) is None and label_ok(label), label
    assert [label_problem(x) for x in ("", "L" * 17, "a\\b")] == [LabelProblem.BLANK, LabelProblem.TOO_LONG,
                                                                    LabelProblem.CHARACTERS]


def test_two_externals_are_refused_for_raystation(phantom, tmp_path: Path) -> None:
    _, ct, masks = phantom
    structures = [Structure("Body", masks["Body"], roi_type=RoiType.EXTERNAL),
                  Structure("External", masks["Body"], roi_type=RoiType.EXTERNAL)]
    with pytest.raises(NamingError, match="exactly one"):
        write_rtstruct(tmp_path / "rs.dcm", ct, structures, ExportOptions(tps="raystation"))


def test_atomic_write_never_touches_inputs(phantom, tmp_path: Path) -> None:
    result, ct, masks = phantom
    digest = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in result.ct_dir.iterdir()}
    out = tmp_path / "rs.dcm"
    out.write_bytes(b"keep me")
    with pytest.raises(InputError, match="exists"):
        write_rtstruct(out, ct, phantom_structures(masks))
    assert out.read_bytes() == b"keep me"
    with pytest.raises(InputError, match="one of the CT files"):
        write_rtstruct(ct.slices[0].path, ct, phantom_structures(masks), ExportOptions(overwrite=True))
    write_rtstruct(out, ct, phantom_structures(masks), ExportOptions(overwrite=True))
    assert pydicom.dcmread(out).Modality == "RTSTRUCT"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert digest == {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in result.ct_dir.iterdir()}


def test_unreferenceable_ct_and_off_grid_masks_are_refused(shared_data: Path, phantom, tmp_path: Path) -> None:
    anonymised = load_ct(shared_data / "totalsegmentator_example/example_ct_dicom")
    with pytest.raises(ExportError, match="no RTSTRUCT can reference it"):
        write_rtstruct(tmp_path / "rs.dcm", anonymised, [Structure("Box", np.ones(anonymised.hu.shape, bool))])
    _, ct, _ = phantom
    with pytest.raises(GeometryError, match="not on the CT grid"):
        write_rtstruct(tmp_path / "rs.dcm", ct, [Structure("Box", np.ones((2, 2, 2), bool), offset_kji=(29, 0, 0))])


def test_simplification_reduces_points_and_keeps_the_shape(phantom, tmp_path: Path) -> None:
    _, ct, masks = phantom
    exact = write_rtstruct(tmp_path / "a.dcm", ct, [Structure("Liver", masks["Liver"])])
    simple = write_rtstruct(tmp_path / "b.dcm", ct, [Structure("Liver", masks["Liver"])],
                            ExportOptions(simplify_tolerance_mm=2.5))  # half a 5 mm voxel
    assert simple.rois[0].points < 0.9 * exact.rois[0].points
    ds = pydicom.dcmread(tmp_path / "b.dcm")
    rasterised = _rasterise(ds, ct)
    assert dice(rasterised, masks["Liver"]) >= 0.95


@pytest.mark.parametrize("position", ["FFS", "HFP", "FFP"])
def test_other_patient_positions_round_trip_through_plastimatch(tmp_path: Path, position: str) -> None:
    grid = dict(GRID, patient_position=position)
    result = write_phantom(tmp_path / "ct", **grid)
    masks = build_phantom(**grid).masks
    ct = load_ct(result.ct_dir)
    structures = [Structure(n, masks[n], roi_type=default_roi_type(n)) for n in ("Body", "Lung_L", "Kidney_R", "Skin")]
    write_rtstruct(tmp_path / "rs.dcm", ct, structures)
    rasterised = plastimatch_masks(tmp_path / "rs.dcm", result.ct_dir, tmp_path / "pm")
    assert all(dice(rasterised[s.name], s.mask) == 1.0 for s in structures)


def _rasterise(ds: pydicom.Dataset, ct) -> np.ndarray:
    """Our own rasteriser on the written contours (independent of the writer's tracing)."""
    inverse = np.linalg.inv(ct.geometry.ijk_to_lps())
    points, offsets, slices = [], [0], []
    for contour in ds.ROIContourSequence[0].ContourSequence:
        lps = np.array(contour.ContourData, dtype=float).reshape(-1, 3)
        ijk = (inverse @ np.c_[lps, np.ones(len(lps))].T).T[:, :3]
        points.append(ijk[:, :2])
        offsets.append(offsets[-1] + len(ijk))
        slices.append(int(round(ijk[0, 2])))
    return rasterize_packed(np.concatenate(points), np.array(offsets), np.array(slices), ct.hu.shape)


@pytest.mark.parametrize("position", ["HFS", "FFP"])
def test_lattice_formatting_equals_plain_formatting(tmp_path: Path, position: str) -> None:
    from OARContourLib.rtstruct.contour_data import format_points, format_values, loops_to_lps

    result = write_phantom(tmp_path / "ct", rows=40, columns=48, slices=6, pixel_spacing_mm=0.977,
                           slice_spacing_mm=2.5, patient_position=position, seed=1)
    ct = load_ct(result.ct_dir)
    rng = np.random.default_rng(0)
    points = np.c_[rng.integers(0, 49, 500), rng.integers(0, 41, 500)] - 0.5
    slices = rng.integers(0, 6, 500)
    assert format_points(points, slices, ct, 2) == format_values(loops_to_lps(points, slices, ct), 2)
