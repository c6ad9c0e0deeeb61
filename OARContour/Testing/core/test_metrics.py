"""OARContourLib.metrics against analytic shapes with known answers and against SimpleITK on real data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import SimpleITK as sitk
from OARContourLib.ct.model import ImageGeometry
from OARContourLib.errors import GeometryError
from OARContourLib.metrics import MaskComparison, compare_masks, dice
from scipy import ndimage

AXES = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


def rotated_axes(degrees: float) -> tuple[tuple[float, float, float], ...]:
    """Direction whose i and j axes are turned in the axial plane (columns are the axis vectors)."""
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return ((c, -s, 0.0), (s, c, 0.0), (0.0, 0.0, 1.0))


def grid(shape=(40, 64, 64), spacing=(1.0, 1.0, 1.0), direction=AXES) -> ImageGeometry:
    return ImageGeometry(shape, spacing, (-30.0, 12.5, 100.0), direction)


def box(geometry: ImageGeometry, start_kji, size_kji) -> np.ndarray:
    mask = np.zeros(geometry.shape, dtype=bool)
    mask[tuple(slice(s, s + n) for s, n in zip(start_kji, size_kji))] = True
    return mask


def sphere(geometry: ImageGeometry, radius_mm: float) -> np.ndarray:
    """Voxels whose centres lie within ``radius_mm`` of the grid's centre voxel."""
    k, j, i = np.indices(geometry.shape, dtype=float)
    centre = [(n - 1) / 2 for n in geometry.shape]
    si, sj, sk = geometry.spacing_mm
    return ((k - centre[0]) * sk) ** 2 + ((j - centre[1]) * sj) ** 2 + ((i - centre[2]) * si) ** 2 <= radius_mm ** 2


def test_dice_of_offset_cubes_is_the_overlap_formula():
    g = grid()
    a, b = box(g, (5, 10, 10), (10, 10, 10)), box(g, (8, 13, 10), (10, 10, 10))
    overlap = 7 * 7 * 10
    assert dice(a, b) == pytest.approx(2 * overlap / 2000)
    assert dice(np.zeros(4, bool), np.zeros(4, bool)) == 1.0
    assert dice(a, np.zeros_like(a)) == 0.0


def test_identical_masks_agree_perfectly():
    g = grid(spacing=(0.8, 0.8, 2.5), direction=rotated_axes(30))
    a = sphere(g, 12.0)
    result = compare_masks(a, a.copy(), g)
    assert (result.dice, result.hd95_mm, result.hd_max_mm, result.msd_mm) == (1.0, 0.0, 0.0, 0.0)
    assert (result.surface_dice, result.apl_mm, result.volume_ratio) == (1.0, 0.0, 1.0)
    assert result.centroid_shift_mm == pytest.approx((0.0, 0.0, 0.0), abs=1e-9)
    assert result.slices_only_reference == result.slices_only_test == ()


@pytest.mark.parametrize("radius_mm", [8.0, 15.0])
def test_sphere_volume_matches_four_thirds_pi_r_cubed(radius_mm):
    g = grid(shape=(50, 50, 50), spacing=(0.9, 0.7, 1.2))
    expected_cc = 4 / 3 * math.pi * radius_mm ** 3 / 1000
    result = compare_masks(sphere(g, radius_mm), sphere(g, radius_mm), g)
    assert result.volume_reference_cc == pytest.approx(expected_cc, rel=0.03)


@pytest.mark.parametrize("shift_kji", [(0, 0, 3), (0, 2, 0), (2, 0, 0), (1, 2, 3)])
def test_shifted_box_gives_the_shift_as_hausdorff_and_centroid_shift(shift_kji):
    spacing = (0.8, 1.1, 2.5)
    g = grid(spacing=spacing, direction=rotated_axes(25))
    a = box(g, (10, 20, 20), (8, 15, 12))
    b = np.roll(a, shift_kji, axis=(0, 1, 2))
    shift_ijk_mm = np.array([shift_kji[2] * spacing[0], shift_kji[1] * spacing[1], shift_kji[0] * spacing[2]])
    length = float(np.linalg.norm(shift_ijk_mm))
    result = compare_masks(a, b, g, tolerance_mm=length)
    assert result.hd_max_mm == pytest.approx(length)
    assert result.hd95_mm is not None and 0 < result.hd95_mm <= length + 1e-9
    assert np.allclose(result.centroid_shift_mm, g.direction_matrix @ shift_ijk_mm)
    assert result.surface_dice == pytest.approx(1.0)
    assert compare_masks(a, b, g, tolerance_mm=0.99 * min(s for s in shift_ijk_mm if s > 0)).surface_dice < 1.0


def test_slices_present_in_only_one_mask_are_listed():
    g = grid()
    a = box(g, (10, 20, 20), (8, 15, 12))
    result = compare_masks(a, np.roll(a, 2, axis=0), g)
    assert result.slices_only_reference == (10, 11)
    assert result.slices_only_test == (18, 19)


def test_concentric_spheres_hausdorff_is_the_difference_of_radii():
    g = grid(shape=(48, 48, 48), spacing=(1.0, 1.0, 1.0))
    inner, outer = sphere(g, 10.0), sphere(g, 16.0)
    result = compare_masks(inner, outer, g, tolerance_mm=6.0 + 1.0)
    assert result.hd_max_mm == pytest.approx(6.0, abs=1.0)
    assert result.msd_mm == pytest.approx(6.0, abs=1.0)
    assert result.surface_dice == 1.0
    assert result.volume_ratio == pytest.approx((16 / 10) ** 3, rel=0.05)
    assert compare_masks(inner, outer, g, tolerance_mm=4.0).surface_dice == 0.0


def test_added_path_length_of_a_box_shifted_in_plane():
    """A 20×20-pixel square moved 3 columns: per slice the moved side (20 px + 2 corner edges) and the
    14 pixels of the trailing side farther than 2 mm from the reference square lie outside tolerance."""
    g = grid(shape=(30, 60, 60), spacing=(1.0, 1.0, 3.0))
    a = box(g, (10, 10, 10), (10, 20, 20))
    result = compare_masks(a, np.roll(a, 3, axis=2), g, tolerance_mm=2.0)
    assert result.apl_mm == pytest.approx(10 * (22 + 14))
    assert compare_masks(a, np.roll(a, 2, axis=2), g, tolerance_mm=2.0).apl_mm == 0.0


def test_added_path_length_counts_test_slices_without_reference():
    g = grid(shape=(30, 60, 60), spacing=(0.5, 0.5, 3.0))
    a = box(g, (10, 10, 10), (10, 20, 20))
    b = box(g, (10, 10, 10), (11, 20, 20))
    perimeter_mm = 4 * 20 * 0.5
    assert compare_masks(a, b, g).apl_mm == pytest.approx(perimeter_mm)
    assert compare_masks(b, a, g).apl_mm == 0.0


def test_empty_mask_conventions():
    g = grid()
    a, empty = box(g, (10, 20, 20), (4, 4, 4)), np.zeros(g.shape, dtype=bool)
    both = compare_masks(empty, empty, g)
    assert (both.dice, both.hd_max_mm, both.surface_dice, both.apl_mm, both.volume_ratio) == (1.0, None, None, 0.0, None)
    missing = compare_masks(a, empty, g)
    assert (missing.dice, missing.hd95_mm, missing.msd_mm, missing.surface_dice, missing.apl_mm) == (0.0, None, None, 0.0, 0.0)
    assert missing.volume_ratio == 0.0 and missing.centroid_shift_mm is None
    extra = compare_masks(empty, a, g)
    assert extra.apl_mm == pytest.approx(4 * 4 * 4) and extra.volume_ratio is None
    assert extra.slices_only_test == (10, 11, 12, 13)


def test_to_dict_is_json_ready_and_shapes_are_checked():
    g = grid()
    result = compare_masks(box(g, (1, 1, 1), (3, 3, 3)), box(g, (1, 1, 2), (3, 3, 3)), g)
    assert isinstance(result, MaskComparison)
    as_dict = result.to_dict()
    assert set(as_dict) == {"dice", "hd95_mm", "hd_max_mm", "msd_mm", "surface_dice", "apl_mm", "volume_reference_cc",
                            "volume_test_cc", "volume_ratio", "centroid_shift_mm", "slices_only_reference", "slices_only_test"}
    assert isinstance(as_dict["centroid_shift_mm"], list)
    with pytest.raises(GeometryError):
        compare_masks(np.zeros((2, 2, 2), bool), np.zeros((2, 2, 2), bool), g)


def geometry_of(image: sitk.Image) -> ImageGeometry:
    direction = np.array(image.GetDirection()).reshape(3, 3)
    return ImageGeometry(tuple(reversed(image.GetSize())), image.GetSpacing(), image.GetOrigin(),
                         tuple(tuple(row) for row in direction))  # type: ignore[arg-type]


def sitk_hausdorff(a: np.ndarray, b: np.ndarray, reference: sitk.Image) -> float:
    images = []
    for mask in (a, b):
        image = sitk.GetImageFromArray(mask.astype(np.uint8))
        image.CopyInformation(reference)
        images.append(image)
    hausdorff = sitk.HausdorffDistanceImageFilter()
    hausdorff.Execute(images[0], images[1])
    return hausdorff.GetHausdorffDistance()


@pytest.mark.parametrize("change", ["shift", "dilate"])
def test_hausdorff_matches_simpleitk_on_a_real_gtv(shared_data, change):
    image = sitk.ReadImage(str(shared_data / "ibsi_sts002/nifti/CT_mask.nii.gz"))
    g = geometry_of(image)
    gtv = sitk.GetArrayFromImage(image) > 0
    if change == "shift":
        other = np.roll(gtv, (1, -3, 2), axis=(0, 1, 2))
    else:
        other = ndimage.binary_dilation(gtv, iterations=3)
    ours = compare_masks(gtv, other, g)
    expected = sitk_hausdorff(gtv, other, image)
    assert expected > 0
    voxel_diagonal = float(np.linalg.norm(g.spacing_mm))
    assert ours.hd_max_mm == pytest.approx(expected, abs=1e-6 if change == "shift" else voxel_diagonal)
    assert ours.volume_reference_cc == pytest.approx(np.prod(image.GetSpacing()) * gtv.sum() / 1000)
    overlap = sitk.LabelOverlapMeasuresImageFilter()
    overlap.Execute(sitk.Cast(image > 0, sitk.sitkUInt8), sitk.Cast(image > 0, sitk.sitkUInt8))
    assert compare_masks(gtv, gtv, g).dice == overlap.GetDiceCoefficient() == 1.0
