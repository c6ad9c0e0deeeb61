"""Volumetric measures of two boolean masks: Dice, volumes, centroids."""

from __future__ import annotations

import numpy as np

from ..ct.model import ImageGeometry
from ..mask_block import MaskBlock, overlap_count


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice coefficient ``2|A∩B| / (|A| + |B|)`` of two boolean masks; 1.0 when both are empty.

    Parameters
    ----------
    a, b : numpy.ndarray
        Masks of the same shape (any dtype; non-zero is inside).
    """
    a = np.asarray(a, dtype=bool)
    b = np.asarray(b, dtype=bool)
    total = int(np.count_nonzero(a)) + int(np.count_nonzero(b))
    return 1.0 if total == 0 else 2.0 * int(np.count_nonzero(a & b)) / total


def block_dice(a: MaskBlock, b: MaskBlock) -> float:
    """:func:`dice` of two masks given as bounding-box blocks on the same grid (no full-grid arrays)."""
    total = a.voxels + b.voxels
    return 1.0 if total == 0 else 2.0 * overlap_count(a, b) / total


def voxel_volume_cc(geometry: ImageGeometry) -> float:
    """Volume of one voxel in cubic centimetres."""
    return float(np.prod(np.asarray(geometry.spacing_mm, dtype=float))) / 1000.0


def volume_cc(mask: np.ndarray, geometry: ImageGeometry) -> float:
    """Volume of a ``(k, j, i)`` mask in cubic centimetres (voxel count × voxel volume)."""
    return int(np.count_nonzero(mask)) * voxel_volume_cc(geometry)


def centroid_lps(mask: np.ndarray, geometry: ImageGeometry) -> np.ndarray | None:
    """Centre of mass of a ``(k, j, i)`` mask in LPS millimetres (voxel centres); None when empty."""
    mask = np.asarray(mask, dtype=bool)
    total = int(np.count_nonzero(mask))
    if total == 0:
        return None
    # Per-axis voxel counts, not np.nonzero: a body mask would need three index arrays of 10⁷ entries.
    means = [float(np.arange(mask.shape[axis]) @ np.count_nonzero(mask, axis=tuple(a for a in range(3) if a != axis)))
             / total for axis in range(3)]
    return (geometry.ijk_to_lps() @ np.array([means[2], means[1], means[0], 1.0]))[:3]


def occupied_slices(mask: np.ndarray) -> set[int]:
    """Slice indices ``k`` on which the mask has at least one voxel."""
    return {int(k) for k in np.flatnonzero(np.asarray(mask).any(axis=(1, 2)))}
