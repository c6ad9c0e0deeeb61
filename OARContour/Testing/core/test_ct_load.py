"""CT loader on every series in ../shared/data, compared voxel for voxel with SimpleITK (GDCM)."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from OARContourLib.ct import ProblemCode, Severity
from OARContourLib.ct.load import load_ct

SHARED_SERIES = {
    # folder: (slices, rows, columns)
    "totalsegmentator_example/example_ct_dicom": (20, 512, 512),
    "ibsi_sts002/dicom/image": (48, 143, 161),
    "varian_aria_4slice/dicom": (4, 512, 512),
    "vendor_rtstructs/raystation9_cheese": (6, 512, 512),
    "vendor_rtstructs/mim7_rtutils": (2, 512, 512),
    "vendor_rtstructs/dicompyler_breast": (1, 512, 512),
}


def sitk_read(folder: Path, files: list[str] | None = None) -> sitk.Image:
    """The independent reference: GDCM sorts and decodes the series."""
    reader = sitk.ImageSeriesReader()
    if files is None:
        series = reader.GetGDCMSeriesIDs(str(folder))
        files = list(reader.GetGDCMSeriesFileNames(str(folder), series[0]))
    reader.SetFileNames(files)
    return reader.Execute()


def assert_same_as_sitk(volume, image: sitk.Image) -> None:
    assert volume.hu.shape == image.GetSize()[::-1]
    np.testing.assert_array_equal(volume.hu, sitk.GetArrayFromImage(image))
    np.testing.assert_allclose(volume.geometry.origin_lps, image.GetOrigin(), atol=1e-4)
    np.testing.assert_allclose(volume.geometry.spacing_mm, image.GetSpacing(), rtol=1e-5)
    np.testing.assert_allclose(volume.geometry.direction_matrix.ravel(), image.GetDirection(), atol=1e-6)


@pytest.mark.parametrize("folder", sorted(SHARED_SERIES))
def test_shared_series_load_with_expected_shape(shared_data: Path, folder: str) -> None:
    volume = load_ct(shared_data / folder)
    assert volume.hu.shape == SHARED_SERIES[folder]
    assert volume.reference.modality == "CT"
    assert len(volume.slices) == volume.hu.shape[0]
    positions = [s.position_along_normal_mm for s in volume.slices]
    assert positions == sorted(positions)


@pytest.mark.parametrize("folder", ["ibsi_sts002/dicom/image", "varian_aria_4slice/dicom",
                                    "vendor_rtstructs/raystation9_cheese", "totalsegmentator_example/example_ct_dicom"])
def test_voxels_and_geometry_equal_simpleitk(shared_data: Path, folder: str) -> None:
    path = shared_data / folder
    volume = load_ct(path)
    files = [str(s.path) for s in volume.slices]
    assert_same_as_sitk(volume, sitk_read(path, files))
    # GDCM's own sort must agree with ours (position along the normal).
    if folder != "totalsegmentator_example/example_ct_dicom":  # empty UIDs: GDCM cannot group it
        assert_same_as_sitk(volume, sitk_read(path))


def test_jpeg2000_series_with_empty_uids_loads_but_is_not_referenceable(shared_data: Path) -> None:
    volume = load_ct(shared_data / "totalsegmentator_example/example_ct_dicom")
    assert not volume.reference.is_referenceable
    codes = {(p.code, p.severity) for p in volume.problems}
    assert (ProblemCode.MISSING_UID, Severity.ERROR) in codes
    assert volume.hu.min() >= -1024 and volume.hu.max() > 1000  # decoded, not zeros


def test_ibsi_ct_matches_reference_nifti(shared_data: Path) -> None:
    volume = load_ct(shared_data / "ibsi_sts002/dicom/image")
    reference = sitk.ReadImage(str(shared_data / "ibsi_sts002/nifti/CT_image.nii.gz"))
    np.testing.assert_array_equal(volume.hu, sitk.GetArrayFromImage(reference))
    np.testing.assert_allclose(volume.geometry.origin_lps, reference.GetOrigin(), atol=1e-3)


def test_reference_carries_uids_and_patient_attributes(shared_data: Path) -> None:
    volume = load_ct(shared_data / "varian_aria_4slice/dicom")
    ref = volume.reference
    assert ref.is_referenceable
    assert ref.series_instance_uid == "1.2.246.352.221.5272685235804956408.10526521834793870012"
    assert ref.attributes["StudyDescription"] == "Visible Human Male"
    assert all(s.sop_instance_uid and s.sop_class_uid == "1.2.840.10008.5.1.4.1.1.2" for s in volume.slices)
    assert not volume.has_errors


def test_order_ignores_file_names_and_instance_numbers(small_phantom, tmp_path: Path) -> None:
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    files = sorted(small_phantom.ct_dir.iterdir())
    names = [f"{i:03d}.dcm" for i in range(len(files))]
    random.Random(3).shuffle(names)
    for source, name in zip(files, names, strict=True):
        shutil.copy(source, shuffled / name)
    original = load_ct(small_phantom.ct_dir)
    again = load_ct(shuffled)
    np.testing.assert_array_equal(original.hu, again.hu)
    assert original.geometry == again.geometry


@pytest.mark.parametrize("position", ["HFS", "FFS", "HFP", "FFP"])
def test_patient_positions_match_simpleitk(tmp_path: Path, position: str) -> None:
    from OARContourLib.phantom import write_phantom

    result = write_phantom(tmp_path / "ct", rows=48, columns=48, slices=8, pixel_spacing_mm=10.0,
                           slice_spacing_mm=12.0, patient_position=position, seed=1)
    volume = load_ct(result.ct_dir)
    assert_same_as_sitk(volume, sitk_read(result.ct_dir))
    assert volume.reference.attributes["PatientPosition"] == position


def test_progress_is_reported_and_cancellable(small_phantom) -> None:
    seen: list[float] = []
    load_ct(small_phantom.ct_dir, progress=lambda f, m: seen.append(f) or False)
    assert seen and seen[-1] == pytest.approx(1.0) and seen == sorted(seen)
    from OARContourLib.errors import CancelledError

    with pytest.raises(CancelledError, match="Cancelled"):
        load_ct(small_phantom.ct_dir, progress=lambda f, m: f > 0.5)
