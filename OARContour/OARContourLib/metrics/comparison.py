"""All metrics of one reference/test pair of masks, in one frozen result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ct.model import ImageGeometry
from ..errors import GeometryError
from .overlap import centroid_lps, dice, occupied_slices, volume_cc
from .path_length import added_path_length_mm
from .surface import SurfaceDistances, joint_crop


@dataclass(frozen=True)
class MaskComparison:
    """How a test mask differs from a reference mask on the same CT grid.

    Distances are in mm (surface convention: :mod:`OARContourLib.metrics.surface`), volumes in cc,
    ``centroid_shift_mm`` is test minus reference in DICOM patient coordinates (LPS), slice indices
    are ``k`` of the CT grid.

    Empty masks: both empty → Dice 1.0, no distances (``None``), APL 0; one empty → Dice 0.0,
    distances ``None`` (there is no surface to measure to), surface Dice 0.0, APL the whole test
    contour (0 when the test is the empty one). ``volume_ratio`` (test / reference) is ``None`` when
    the reference is empty, ``centroid_shift_mm`` when either is.
    """

    dice: float
    hd95_mm: float | None
    hd_max_mm: float | None
    msd_mm: float | None
    surface_dice: float | None
    apl_mm: float
    volume_reference_cc: float
    volume_test_cc: float
    volume_ratio: float | None
    centroid_shift_mm: tuple[float, float, float] | None
    slices_only_reference: tuple[int, ...]
    slices_only_test: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "dice": self.dice, "hd95_mm": self.hd95_mm, "hd_max_mm": self.hd_max_mm, "msd_mm": self.msd_mm,
            "surface_dice": self.surface_dice, "apl_mm": self.apl_mm,
            "volume_reference_cc": self.volume_reference_cc, "volume_test_cc": self.volume_test_cc,
            "volume_ratio": self.volume_ratio,
            "centroid_shift_mm": None if self.centroid_shift_mm is None else list(self.centroid_shift_mm),
            "slices_only_reference": list(self.slices_only_reference),
            "slices_only_test": list(self.slices_only_test),
        }


def compare_masks(reference: np.ndarray, test: np.ndarray, geometry: ImageGeometry,
                  tolerance_mm: float = 2.0) -> MaskComparison:
    """Compare two ``(k, j, i)`` boolean masks on the grid ``geometry`` describes.

    Parameters
    ----------
    reference, test : numpy.ndarray
        Masks of shape ``geometry.shape`` (non-zero is inside).
    geometry : ImageGeometry
        The CT grid: spacing (anisotropic allowed), origin and direction cosines.
    tolerance_mm : float
        Distance within which surfaces agree, for surface Dice and added path length.

    Raises
    ------
    GeometryError
        A mask's shape is not the grid's.
    """
    reference, test = _checked(reference, geometry, "reference"), _checked(test, geometry, "test")
    spacing_kji = tuple(float(s) for s in reversed(geometry.spacing_mm))
    crop_r, crop_t, _ = joint_crop(reference, test)
    volume_r, volume_t = volume_cc(reference, geometry), volume_cc(test, geometry)
    slices_r, slices_t = occupied_slices(reference), occupied_slices(test)
    distances = _distances(crop_r, crop_t, spacing_kji)
    return MaskComparison(
        dice=dice(crop_r, crop_t),
        hd95_mm=None if distances is None else distances.percentile_hausdorff_mm(95.0),
        hd_max_mm=None if distances is None else distances.hausdorff_mm(),
        msd_mm=None if distances is None else distances.mean_symmetric_mm(),
        surface_dice=_surface_dice(distances, crop_r, crop_t, tolerance_mm),
        apl_mm=added_path_length_mm(crop_r, crop_t, (spacing_kji[0], spacing_kji[1], spacing_kji[2]), tolerance_mm),
        volume_reference_cc=volume_r, volume_test_cc=volume_t,
        volume_ratio=volume_t / volume_r if volume_r > 0 else None,
        centroid_shift_mm=_centroid_shift(reference, test, geometry),
        slices_only_reference=tuple(sorted(slices_r - slices_t)),
        slices_only_test=tuple(sorted(slices_t - slices_r)),
    )


def _checked(mask: np.ndarray, geometry: ImageGeometry, role: str) -> np.ndarray:
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != tuple(geometry.shape):
        raise GeometryError(f"The {role} mask has shape {mask.shape}, the CT grid {tuple(geometry.shape)}.",
                            hint="Resample both masks onto the CT grid (k, j, i) before comparing.")
    return mask


def _distances(reference: np.ndarray, test: np.ndarray, spacing_kji: tuple[float, ...]) -> SurfaceDistances | None:
    if not (reference.any() and test.any()):
        return None
    return SurfaceDistances.between(reference, test, spacing_kji)


def _surface_dice(distances: SurfaceDistances | None, reference: np.ndarray, test: np.ndarray,
                  tolerance_mm: float) -> float | None:
    if distances is not None:
        return distances.surface_dice(tolerance_mm)
    return None if not (reference.any() or test.any()) else 0.0


def _centroid_shift(reference: np.ndarray, test: np.ndarray, geometry: ImageGeometry) -> tuple[float, float, float] | None:
    centre_r, centre_t = centroid_lps(reference, geometry), centroid_lps(test, geometry)
    if centre_r is None or centre_t is None:
        return None
    shift = centre_t - centre_r
    return (float(shift[0]), float(shift[1]), float(shift[2]))
