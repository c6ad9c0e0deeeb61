"""RTSTRUCT reader: every shared vendor file against plastimatch, round trips, orientation, quirks."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from OARContourLib.ct.load import load_ct
from OARContourLib.ct.model import CTVolume, ImageGeometry, SeriesReference, SliceReference
from OARContourLib.dicom_compat import save_without_file_meta
from OARContourLib.errors import InputError
from OARContourLib.finding_codes import FindingCode
from OARContourLib.findings import Severity
from OARContourLib.phantom import build_phantom, write_phantom
from OARContourLib.rtstruct.contours import HoleEncoding
from OARContourLib.rtstruct.model import ExportOptions, Structure
from OARContourLib.rtstruct.parse import ReadCode
from OARContourLib.rtstruct.read import StructureSetContents, read_rtstruct
from OARContourLib.rtstruct.roi_types import default_roi_type
from OARContourLib.rtstruct.verify import verify_rtstruct
from OARContourLib.rtstruct.write import write_rtstruct
from pydicom.dataset import Dataset
from testsupport.validators import dice, tool

SHARED = {
    "ibsi": ("ibsi_sts002/dicom/mask/RS.dcm", "ibsi_sts002/dicom/image"),
    "varian": ("varian_aria_4slice/dicom/RS_Body_SpinalCord.dcm", "varian_aria_4slice/dicom"),
    "raystation9": ("vendor_rtstructs/raystation9_cheese/RS1.2.752.243.1.1.20210208111802158.1580.88111.dcm",
                    "vendor_rtstructs/raystation9_cheese"),
    "mim7": ("vendor_rtstructs/mim7_rtutils/mim_rt.dcm", "vendor_rtstructs/mim7_rtutils"),
    "rtutils": ("vendor_rtstructs/mim7_rtutils/rtutils_rt.dcm", "vendor_rtstructs/mim7_rtutils"),
    "dicompyler": ("vendor_rtstructs/dicompyler_breast/rtss.dcm", "vendor_rtstructs/dicompyler_breast"),
}
#: ROIs whose slices hold nested contours: we XOR them (holes), plastimatch unions them.
NESTED = {("rtutils", "ROI-1")}
GRID = dict(rows=96, columns=96, slices=24, pixel_spacing_mm=5.0, slice_spacing_mm=6.0, seed=3)
_cache: dict[str, tuple[CTVolume, StructureSetContents]] = {}


def shared_read(shared_data: Path, case: str) -> tuple[CTVolume, StructureSetContents]:
    if case not in _cache:
        rs, ct_dir = SHARED[case]
        ct = load_ct(shared_data / ct_dir)
        _cache[case] = ct, read_rtstruct(shared_data / rs, ct)
    return _cache[case]


def plastimatch(rtstruct: Path, ct_dir: Path, out: Path) -> tuple[dict[str, sitk.Image | None], dict[str, str]]:
    """plastimatch's masks by ROI name (None where it made none) and the colours it read."""
    listing = out / "ss_list.txt"
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([tool("plastimatch"), "convert", "--input", str(rtstruct), "--referenced-ct", str(ct_dir),
                    "--output-prefix", str(out), "--prefix-format", "nii.gz", "--output-ss-list", str(listing)],
                   check=True, capture_output=True, text=True)
    images: dict[str, sitk.Image | None] = {}
    colors = {}
    for line in listing.read_text().splitlines():
        index, color, name = line.split("|", 2)
        path = out / f"{name}.nii.gz"
        assert int(index) < 0 or path.exists(), f"plastimatch listed {name} but wrote no {path.name}"
        images[name] = sitk.ReadImage(str(path)) if int(index) >= 0 else None
        colors[name] = color
    return images, colors


def same_grid(image: sitk.Image, ct: CTVolume) -> bool:
    g = ct.geometry
    return (image.GetSize() == tuple(reversed(g.shape)) and np.allclose(image.GetOrigin(), g.origin_lps, atol=1e-3)
            and np.allclose(image.GetSpacing(), g.spacing_mm, atol=1e-4)
            and np.allclose(image.GetDirection(), g.direction_matrix.ravel(), atol=1e-6))


def array(image: sitk.Image) -> np.ndarray:
    return sitk.GetArrayFromImage(image) > 0


def grid_ct(image: sitk.Image, frame_of_reference_uid: str) -> CTVolume:
    """A CT without pixels or image UIDs on the grid of ``image`` (to read onto plastimatch's grid)."""
    size, spacing = image.GetSize(), image.GetSpacing()
    origin, direction = np.array(image.GetOrigin()), np.array(image.GetDirection()).reshape(3, 3)
    shape = (size[2], size[1], size[0])
    geometry = ImageGeometry(shape, spacing, tuple(origin), tuple(tuple(row) for row in direction))
    corners = [origin + k * spacing[2] * direction[:, 2] for k in range(size[2])]
    slices = tuple(SliceReference("", "", tuple(c), float(c @ direction[:, 2]), Path()) for c in corners)
    return CTVolume(np.broadcast_to(np.int16(0), shape), geometry, slices,
                    SeriesReference("", "", frame_of_reference_uid, "CT"))


def edit_copy(source: Path, target: Path, change: Callable[[Dataset], None]) -> Path:
    ds = pydicom.dcmread(source)
    change(ds)
    ds.save_as(target)
    return target


def codes(contents: StructureSetContents) -> set[str]:
    return {f.code for f in contents.findings}


# --- every shared RTSTRUCT ----------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(SHARED))
def test_roi_semantics_come_from_the_file_by_roi_number(shared_data: Path, case: str) -> None:
    ct, contents = shared_read(shared_data, case)
    ds = pydicom.dcmread(shared_data / SHARED[case][0])
    names = {int(r.ROINumber): r.ROIName for r in ds.StructureSetROISequence}
    types = {int(o.ReferencedROINumber): o.get("RTROIInterpretedType", "") for o in ds.RTROIObservationsSequence}
    colors = {int(c.ReferencedROINumber): tuple(int(v) for v in c.ROIDisplayColor) for c in ds.ROIContourSequence}
    assert [r.number for r in contents.rois] == list(names)
    for roi in contents.rois:
        assert (roi.name, roi.roi_type, roi.color) == (names[roi.number], types[roi.number], colors[roi.number])
        assert roi.mask.shape == ct.hu.shape and roi.mask.dtype == bool
    assert contents.frame_of_reference_uid == ds.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID


@pytest.mark.parametrize("case", ["ibsi", "varian", "raystation9", "mim7", "rtutils"])
def test_masks_match_plastimatch_on_the_ct_grid(shared_data: Path, case: str, tmp_path: Path) -> None:
    ct, contents = shared_read(shared_data, case)
    rs, ct_dir = SHARED[case]
    images, colors = plastimatch(shared_data / rs, shared_data / ct_dir, tmp_path)
    assert set(images) == {r.name for r in contents.rois}
    for roi in contents.rois:
        image = images[roi.name]
        assert image is not None and same_grid(image, ct), roi.name
        assert colors[roi.name] == " ".join(map(str, roi.color or ()))
        if (case, roi.name) not in NESTED:
            assert dice(roi.mask, array(image)) >= 0.99, (roi.name, dice(roi.mask, array(image)))
        assert roi.voxel_count > 0


def test_nested_contours_are_holes_where_plastimatch_unions_them(shared_data: Path, tmp_path: Path) -> None:
    """rt-utils' ROI-1: a square with a second contour inside it on the same slice (a hole)."""
    ct, contents = shared_read(shared_data, "rtutils")
    rs, ct_dir = SHARED["rtutils"]
    full = array(plastimatch(shared_data / rs, shared_data / ct_dir, tmp_path / "full")[0]["ROI-1"])

    def inner_only(ds: Dataset) -> None:
        del ds.ROIContourSequence[0].ContourSequence[0]

    inner_file = edit_copy(shared_data / rs, tmp_path / "inner.dcm", inner_only)
    inner = array(plastimatch(inner_file, shared_data / ct_dir, tmp_path / "inner")[0]["ROI-1"])
    assert inner.sum() > 0 and not (inner & ~full).any()
    np.testing.assert_array_equal(contents.roi("ROI-1").mask, full & ~inner)


def test_dicompyler_partial_series_reports_absent_slices_and_matches_plastimatch_grid(
        shared_data: Path, tmp_path: Path) -> None:
    """1 of 98 slices is present: plastimatch then builds its own grid from the contours."""
    ct, contents = shared_read(shared_data, "dicompyler")
    assert contents.roi("BODY").contour_count == 4 and contents.roi("BODY").voxel_count > 0
    outside = {f.roi_name: f for f in contents.findings if f.code == "CONTOUR_OUTSIDE_CT"}
    assert set(outside) == {r.name for r in contents.rois} - {"Areola"}
    assert "z = " in outside["Heart"].message and "33 contour(s)" in outside["Heart"].message
    assert [f.roi_name for f in contents.findings if f.code == "EMPTY_ROI"] == ["Areola"]
    rs, ct_dir = SHARED["dicompyler"]
    images, _ = plastimatch(shared_data / rs, shared_data / ct_dir, tmp_path)
    assert images["Areola"] is None
    reference = next(i for i in images.values() if i is not None)
    assert not same_grid(reference, ct)
    on_grid = read_rtstruct(shared_data / rs, grid_ct(reference, contents.frame_of_reference_uid))
    for roi in on_grid.rois:
        image = images[roi.name]
        if image is None:
            assert roi.voxel_count == 0
            continue
        assert dice(roi.mask, array(image)) >= 0.99, roi.name
    assert dice(on_grid.roi("Heart").mask, array(images["Heart"])) == 1.0


def test_reference_masks_supplied_with_the_data(shared_data: Path) -> None:
    _, ibsi = shared_read(shared_data, "ibsi")
    gtv = ibsi.roi("GTV_Mass_CT").mask
    for path in ("ibsi_sts002/nifti/CT_mask.nii.gz", "ibsi_sts002/plastimatch_masks/GTV_Mass_CT.nii.gz"):
        np.testing.assert_array_equal(gtv, array(sitk.ReadImage(str(shared_data / path))))
    assert gtv.sum() == 17090
    _, varian = shared_read(shared_data, "varian")
    cord = array(sitk.ReadImage(str(shared_data / "varian_aria_4slice/plastimatch_masks/SpinalCord.nii.gz")))
    np.testing.assert_array_equal(varian.roi("SpinalCord").mask, cord)
    body = array(sitk.ReadImage(str(shared_data / "varian_aria_4slice/plastimatch_masks/BODY.nii.gz")))
    assert body.sum() == 163768
    # One voxel centre lies exactly on a BODY edge (x = 257.0 on row 362): a tie the two rules break differently.
    assert np.argwhere(varian.roi("BODY").mask != body).tolist() == [[2, 362, 257]]


def test_clean_files_have_no_findings_and_ibsi_is_placed_by_position(shared_data: Path) -> None:
    ct, ibsi = shared_read(shared_data, "ibsi")
    assert ibsi.findings == () and shared_read(shared_data, "varian")[1].findings == ()
    ds = pydicom.dcmread(shared_data / SHARED["ibsi"][0])
    referenced = {i.ReferencedSOPInstanceUID for c in ds.ROIContourSequence[0].ContourSequence
                  for i in c.ContourImageSequence}
    assert not referenced & {s.sop_instance_uid for s in ct.slices}
    assert ibsi.roi("GTV_Mass_CT").contour_count == 16
    assert ibsi.referenced_series_uid == ct.reference.series_instance_uid


def test_vendor_quirks_are_findings(shared_data: Path) -> None:
    _, raystation = shared_read(shared_data, "raystation9")
    external = raystation.roi("External")
    assert (external.roi_type, external.generation_algorithm, external.contour_count) == ("EXTERNAL", "SEMIAUTOMATIC", 6)
    assert external.contour_count + external.skipped_contour_count == 393
    assert codes(raystation) == {"CONTOUR_OUTSIDE_CT"} and not raystation.has_errors
    _, mim = shared_read(shared_data, "mim7")
    assert [(r.contour_count, r.skipped_contour_count) for r in mim.rois] == [(2, 1)] * 4
    assert all("z = 70.00 mm" in f.message for f in mim.findings)
    _, rtutils = shared_read(shared_data, "rtutils")
    assert rtutils.has_errors and codes(rtutils) == {"FRAME_OF_REFERENCE_MISMATCH"}
    assert rtutils.roi("ROI-1").voxel_count > 0  # still read


# --- phantom round trips -------------------------------------------------------------------------


def holed_structures(shape: tuple[int, int, int]) -> list[Structure]:
    k, j, i = np.ogrid[: shape[0], : shape[1], : shape[2]]
    radius = np.hypot(j - shape[1] / 2 + 3, i - shape[2] / 2 - 5)
    ring = (radius > 6) & (radius < 16) & (k > 3) & (k < 10)
    island = (radius < 20) & ~((radius > 8) & (radius < 13)) & (k > 12) & (k < 16)
    return [Structure("Ring", ring), Structure("IslandInHole", island)]


@pytest.fixture(scope="module", params=["HFS", "FFS", "HFP"])
def positioned(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    result = write_phantom(tmp_path_factory.mktemp(request.param) / "p", patient_position=request.param, **GRID)
    ct = load_ct(result.ct_dir)
    masks = build_phantom(patient_position=request.param, **GRID).masks
    structures = [Structure(n, m, roi_type=default_roi_type(n)) for n, m in masks.items() if m.any()]
    return ct, structures + holed_structures(ct.hu.shape)


@pytest.mark.parametrize("encoding", list(HoleEncoding))
def test_round_trip_is_exact_for_every_patient_position(positioned, encoding: HoleEncoding, tmp_path: Path) -> None:
    ct, structures = positioned
    path = tmp_path / "rs.dcm"
    write_rtstruct(path, ct, structures, ExportOptions(hole_encoding=encoding))
    contents = read_rtstruct(path, ct)
    assert contents.findings == ()
    assert [r.name for r in contents.rois] == [s.name for s in structures]
    for roi, structure in zip(contents.rois, structures):
        np.testing.assert_array_equal(roi.mask, structure.mask, err_msg=roi.name)
    ring_contours = len(pydicom.dcmread(path).ROIContourSequence[-2].ContourSequence)
    assert ring_contours == (12 if encoding == "nested" else 6)  # 6 slices, hole separate or keyholed


def test_patient_position_changes_the_geometry_the_reader_inverts(positioned) -> None:
    ct, _ = positioned
    direction = np.array(ct.geometry.direction)
    assert np.allclose(np.abs(direction), np.eye(3))  # axial, but with sign flips for FFS and HFP


@pytest.mark.parametrize("direction, k_sign", [
    (((1.0, 0.0, 0.0), (0.0, 0.0, -1.0)), 1.0),  # coronal: rows run along -z
    (((0.866025, -0.5, 0.0), (0.5, 0.866025, 0.0)), 1.0),  # rotated 30 degrees in-plane
    (((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)), -1.0),  # slices stacked against row x column
], ids=["coronal", "rotated", "reversed-stack"])
def test_round_trip_on_non_axial_grids(direction, k_sign: float, tmp_path: Path) -> None:
    ct = synthetic_ct(direction, k_sign)
    structures = holed_structures(ct.hu.shape)
    write_rtstruct(tmp_path / "rs.dcm", ct, structures)
    contents = read_rtstruct(tmp_path / "rs.dcm", ct)
    assert contents.findings == ()
    for roi, structure in zip(contents.rois, structures):
        np.testing.assert_array_equal(roi.mask, structure.mask)


def synthetic_ct(axes: tuple, k_sign: float = 1.0, shape: tuple[int, int, int] = (20, 48, 64)) -> CTVolume:
    """A referenceable CT in memory; ``axes`` are the i and j unit vectors, k = ``k_sign`` × (i × j)."""
    direction = np.zeros((3, 3))
    direction[:, 0], direction[:, 1] = axes
    direction[:, 2] = k_sign * np.cross(direction[:, 0], direction[:, 1])
    spacing, origin = (1.5, 2.0, 3.0), np.array([-40.0, 25.0, 100.0])
    corners = [origin + k * spacing[2] * direction[:, 2] for k in range(shape[0])]
    slices = tuple(SliceReference("1.2.840.10008.5.1.4.1.1.2", f"1.2.3.4.{k + 1}", tuple(c),
                                  float(c @ direction[:, 2]), Path(f"/nonexistent/{k}.dcm"))
                   for k, c in enumerate(corners))
    geometry = ImageGeometry(shape, spacing, tuple(origin), tuple(tuple(row) for row in direction))
    return CTVolume(np.zeros(shape, np.int16), geometry, slices,
                    SeriesReference("1.2.3.1", "1.2.3.2", "1.2.3.3", "CT", {"PatientID": "X"}))


# --- quirks on a known file ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def box_file(tmp_path_factory: pytest.TempPathFactory):
    """HFS phantom CT and an RTSTRUCT with two boxes (slices 5-9 and 12), one contour per slice."""
    folder = tmp_path_factory.mktemp("box")
    ct = load_ct(write_phantom(folder / "p", **GRID).ct_dir)
    box = np.zeros(ct.hu.shape, bool)
    box[5:10, 30:50, 20:40] = True
    small = np.zeros(ct.hu.shape, bool)
    small[12, 60:64, 60:70] = True
    write_rtstruct(folder / "rs.dcm", ct, [Structure("Box", box), Structure("Small", small)])
    return ct, folder / "rs.dcm", box, small


def edited(box_file, tmp_path: Path, change: Callable[[Dataset], None]) -> StructureSetContents:
    ct, path, _, _ = box_file
    return read_rtstruct(edit_copy(path, tmp_path / "edited.dcm", change), ct)


def shift_contour(index: int, dz: float, dx: float = 0.0, which: int = 0) -> Callable[[Dataset], None]:
    def change(ds: Dataset) -> None:
        contour = ds.ROIContourSequence[which].ContourSequence[index]
        points = np.array(contour.ContourData, dtype=float).reshape(-1, 3) + [dx, 0.0, dz]
        contour.ContourData = [f"{v:.3f}" for v in points.ravel()]
        del contour.ContourImageSequence
    return change


def test_tiny_offsets_from_the_slice_plane_are_tolerated(box_file, tmp_path: Path) -> None:
    contents = edited(box_file, tmp_path, shift_contour(2, dz=0.2 * GRID["slice_spacing_mm"]))
    assert contents.findings == ()
    np.testing.assert_array_equal(contents.roi("Box").mask, box_file[2])


def test_contour_between_slices_is_skipped_with_its_roi_and_z(box_file, tmp_path: Path) -> None:
    ct, _, box, _ = box_file
    contents = edited(box_file, tmp_path, shift_contour(2, dz=0.5 * GRID["slice_spacing_mm"]))
    (found,) = contents.findings
    z = ct.slices[7].image_position_patient[2] + 3.0
    assert (found.code, found.roi_name, found.severity.value) == ("CONTOUR_BETWEEN_SLICES", "Box", "warning")
    assert f"z = {z:.2f} mm" in found.message
    expected = box.copy()
    expected[7] = False
    np.testing.assert_array_equal(contents.roi("Box").mask, expected)
    assert (contents.roi("Box").contour_count, contents.roi("Box").skipped_contour_count) == (4, 1)


def test_contour_beyond_the_ct_is_reported(box_file, tmp_path: Path) -> None:
    contents = edited(box_file, tmp_path, shift_contour(0, dz=-100 * GRID["slice_spacing_mm"]))
    assert codes(contents) == {"CONTOUR_OUTSIDE_CT"} and "beyond the CT slices" in contents.findings[0].message


def test_contour_outside_the_image_area_is_reported(box_file, tmp_path: Path) -> None:
    contents = edited(box_file, tmp_path, shift_contour(0, dz=0.0, dx=1000.0))
    assert codes(contents) == {"CONTOUR_OUTSIDE_CT"} and "outside the image area" in contents.findings[0].message
    assert contents.roi("Box").voxel_count == box_file[2].sum() - 20 * 20


def test_partly_outside_contour_is_clipped_with_a_warning(box_file, tmp_path: Path) -> None:
    contents = edited(box_file, tmp_path, shift_contour(0, dz=0.0, dx=300.0))
    assert codes(contents) == {"CONTOUR_CLIPPED"}
    assert contents.roi("Box").voxel_count == box_file[2].sum() - 20 * 4  # 16 of 20 columns fall outside


@pytest.mark.parametrize("lift_mm, skipped", [(1.0, 0), (5.0, 1)])
def test_non_planar_contour_is_reported(box_file, tmp_path: Path, lift_mm: float, skipped: int) -> None:
    def tilt(ds: Dataset) -> None:
        contour = ds.ROIContourSequence[0].ContourSequence[1]
        points = np.array(contour.ContourData, dtype=float).reshape(-1, 3)
        points[0, 2] += lift_mm
        contour.ContourData = [f"{v:.3f}" for v in points.ravel()]

    contents = edited(box_file, tmp_path, tilt)
    (found,) = contents.findings
    assert found.code == "CONTOUR_NOT_PLANAR" and found.roi_name == "Box"
    assert contents.roi("Box").skipped_contour_count == skipped
    assert ("were skipped" in found.message) == bool(skipped)


def test_wrong_image_uid_falls_back_to_position(box_file, tmp_path: Path) -> None:
    ct = box_file[0]

    def point_elsewhere(ds: Dataset) -> None:
        ds.ROIContourSequence[0].ContourSequence[0].ContourImageSequence[0].ReferencedSOPInstanceUID = \
            ct.slices[20].sop_instance_uid

    contents = edited(box_file, tmp_path, point_elsewhere)
    assert codes(contents) == {"REFERENCED_IMAGE_MISMATCH"}
    np.testing.assert_array_equal(contents.roi("Box").mask, box_file[2])


def test_point_and_open_contours_are_ignored_with_a_finding(box_file, tmp_path: Path) -> None:
    def retype(ds: Dataset) -> None:
        ds.ROIContourSequence[0].ContourSequence[0].ContourGeometricType = "OPEN_PLANAR"
        contour = ds.ROIContourSequence[1].ContourSequence[0]
        contour.ContourGeometricType, contour.NumberOfContourPoints = "POINT", 1
        contour.ContourData = contour.ContourData[:3]

    contents = edited(box_file, tmp_path, retype)
    assert codes(contents) == {"UNSUPPORTED_CONTOUR_TYPE"}
    assert contents.roi("Box").contour_count == 4 and contents.roi("Small").voxel_count == 0
    assert "1 POINT" in next(f.message for f in contents.findings if f.roi_name == "Small")


def test_rois_are_matched_by_number_not_position(box_file, tmp_path: Path) -> None:
    """RayStation omits the ROI Contour item of an empty ROI; the order may differ too."""
    def reorder(ds: Dataset) -> None:
        ds.ROIContourSequence = [ds.ROIContourSequence[1]]
        ds.RTROIObservationsSequence = list(reversed(ds.RTROIObservationsSequence))

    contents = edited(box_file, tmp_path, reorder)
    np.testing.assert_array_equal(contents.roi("Small").mask, box_file[3])
    assert contents.roi("Box").voxel_count == 0
    assert [(f.code, f.roi_name) for f in contents.findings] == [("EMPTY_ROI", "Box")]


def test_duplicate_names_are_read_with_a_warning_the_verifier_makes_an_error(box_file, tmp_path: Path) -> None:
    """One code, description and hint; the severities differ on purpose (finding_codes.py says why)."""
    def rename(ds: Dataset) -> None:
        ds.StructureSetROISequence[1].ROIName = "BOX"

    contents = edited(box_file, tmp_path, rename)
    duplicate = FindingCode.DUPLICATE_ROI_NAME
    found = [f for f in contents.findings if f.code == duplicate.code]
    assert [(f.roi_name, f.severity, f.hint) for f in found] == [("BOX", duplicate.read_severity, duplicate.hint)]
    assert "ROIs 1 and 2" in found[0].message and not contents.has_errors
    assert contents.roi("BOX").voxel_count and contents.roi("Box").voxel_count  # both read, told apart by number
    verified = verify_rtstruct(tmp_path / "edited.dcm", box_file[0])
    assert [(f.severity, f.hint) for f in verified.findings if f.code == duplicate.code] == [
        (duplicate.severity, duplicate.hint)]
    assert duplicate.severity is Severity.ERROR and duplicate.read_severity is Severity.WARNING


def test_reader_codes_have_one_home() -> None:
    """A fact several doors report is a FindingCode, never a second ReadCode of the same name."""
    assert not {c.value for c in ReadCode} & {c.code for c in FindingCode}
    assert {c.code for c in FindingCode if c.read_severity is not None} == {"DUPLICATE_ROI_NAME", "EMPTY_ROI"}
    with pytest.raises(ValueError, match="NO_EXTERNAL is not a reader finding"):
        FindingCode.NO_EXTERNAL.read_finding("x")


def test_frame_of_reference_mismatch_is_an_error_but_masks_are_read(box_file, tmp_path: Path) -> None:
    def other_frame(ds: Dataset) -> None:
        ds.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID = "1.2.3.999"
        for roi in ds.StructureSetROISequence:
            roi.ReferencedFrameOfReferenceUID = "1.2.3.999"
        ds.FrameOfReferenceUID = "1.2.3.999"

    contents = edited(box_file, tmp_path, other_frame)
    assert contents.has_errors and codes(contents) == {"FRAME_OF_REFERENCE_MISMATCH"} and len(contents.findings) == 1
    np.testing.assert_array_equal(contents.roi("Box").mask, box_file[2])


def test_missing_frame_of_reference_and_other_series_warn(box_file, tmp_path: Path) -> None:
    def strip(ds: Dataset) -> None:
        series = ds.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0].RTReferencedSeriesSequence[0]
        series.SeriesInstanceUID = "1.2.3.777"
        del ds.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID
        for roi in ds.StructureSetROISequence:
            del roi.ReferencedFrameOfReferenceUID
        if "FrameOfReferenceUID" in ds:
            del ds.FrameOfReferenceUID

    contents = edited(box_file, tmp_path, strip)
    assert codes(contents) == {"MISSING_FRAME_OF_REFERENCE", "REFERENCED_SERIES_MISMATCH"}
    assert not contents.has_errors and contents.referenced_series_uid == "1.2.3.777"


def test_non_conformant_values_are_read_with_a_finding(box_file, tmp_path: Path) -> None:
    long_name = "Box_" + "x" * 66  # LO allows 64 characters

    def rename(ds: Dataset) -> None:
        ds.StructureSetROISequence[0].ROIName = long_name

    with pytest.warns(UserWarning):  # pydicom warns when the test sets the value
        contents = edited(box_file, tmp_path, rename)
    assert codes(contents) == {"DICOM_VALUE_INVALID"} and "64" in contents.findings[0].message
    assert contents.rois[0].name == long_name


def test_unknown_roi_numbers_and_bad_contour_data_warn(box_file, tmp_path: Path) -> None:
    def break_it(ds: Dataset) -> None:
        ds.ROIContourSequence[1].ReferencedROINumber = 99
        ds.ROIContourSequence[0].ContourSequence[0].ContourData = ["1.0", "2.0", "3.0"]
        ds.ROIContourSequence[0].ROIDisplayColor = [300, 0, 0]

    contents = edited(box_file, tmp_path, break_it)
    assert codes(contents) == {"UNKNOWN_ROI_NUMBER", "INVALID_CONTOUR_DATA", "INVALID_COLOR", "EMPTY_ROI"}
    assert contents.roi("Box").color is None and contents.roi("Box").contour_count == 4


def test_file_without_preamble_is_read(box_file, tmp_path: Path) -> None:
    ct, path, box, _ = box_file
    bare = tmp_path / "bare.dcm"
    save_without_file_meta(pydicom.dcmread(path), bare)
    assert bare.read_bytes()[128:132] != b"DICM"
    np.testing.assert_array_equal(read_rtstruct(bare, ct).roi("Box").mask, box)


@pytest.mark.parametrize("make, message", [
    (lambda folder, ct: ct.slices[0].path, "is not an RTSTRUCT"),
    (lambda folder, ct: _write(folder / "notes.txt", b"hello"), "not an RTSTRUCT|not a readable DICOM"),
    (lambda folder, ct: folder / "missing.dcm", "not found"),
], ids=["ct-file", "text-file", "missing"])
def test_anything_but_an_rtstruct_is_an_input_error(box_file, tmp_path: Path, make, message: str) -> None:
    ct = box_file[0]
    with pytest.raises(InputError, match=message):
        read_rtstruct(make(tmp_path, ct), ct)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_large_structure_set_reads_quickly(shared_data: Path) -> None:
    ct = load_ct(shared_data / SHARED["raystation9"][1])
    started = time.perf_counter()
    read_rtstruct(shared_data / SHARED["raystation9"][0], ct)
    assert time.perf_counter() - started < 2.0


def test_findings_are_listed_once_per_roi_and_in_the_set(shared_data: Path) -> None:
    _, contents = shared_read(shared_data, "dicompyler")
    per_roi = [f for roi in contents.rois for f in roi.findings]
    assert list(contents.findings[-len(per_roi):]) == per_roi
    assert len(contents.findings) == len(per_roi) + 0  # dicompyler's set-level references are all fine
