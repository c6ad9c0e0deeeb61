"""Two cropped masks on one CT grid, brought onto the small grid of their joint bounding box.

Comparing on that sub-grid (origin moved to the box's first voxel, same spacing and direction)
gives the metrics of the full grid without ever allocating a full-size mask per structure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ct.model import ImageGeometry
from ..mask_grid import MaskInput


@dataclass(frozen=True)
class PairGrid:
    """Both masks on the joint box; ``start_kji`` is the box's first voxel on the CT grid."""

    reference: np.ndarray
    test: np.ndarray
    geometry: ImageGeometry
    start_kji: tuple[int, int, int]


def pair_grid(reference: MaskInput, test: MaskInput, geometry: ImageGeometry) -> PairGrid:
    """Paste both blocks into their joint bounding box (one voxel when both are empty)."""
    boxes = [(m.offset_kji, m.mask.shape) for m in (reference, test) if m.mask.any()]
    start: tuple[int, ...] = (0, 0, 0)
    stop: tuple[int, ...] = (1, 1, 1)
    if boxes:
        start = tuple(min(o[a] for o, _ in boxes) for a in range(3))
        stop = tuple(max(o[a] + s[a] for o, s in boxes) for a in range(3))
    shape = tuple(b - a for a, b in zip(start, stop))
    arrays = []
    for mask in (reference, test):
        out = np.zeros(shape, dtype=bool)
        if mask.mask.any():
            k, j, i = (mask.offset_kji[a] - start[a] for a in range(3))
            n_k, n_j, n_i = mask.mask.shape
            out[k:k + n_k, j:j + n_j, i:i + n_i] = mask.mask
        arrays.append(out)
    origin = geometry.ijk_to_lps() @ np.array([start[2], start[1], start[0], 1.0])
    sub = ImageGeometry((shape[0], shape[1], shape[2]), geometry.spacing_mm,
                        (float(origin[0]), float(origin[1]), float(origin[2])), geometry.direction)
    return PairGrid(arrays[0], arrays[1], sub, (start[0], start[1], start[2]))


def disagreement_order(reference: np.ndarray, test: np.ndarray, axis: int = 0) -> list[int]:
    """Indices along ``axis`` holding voxels in exactly one mask, most such voxels first (ties: lower index)."""
    others = tuple(a for a in range(reference.ndim) if a != axis)
    counts = np.count_nonzero(reference ^ test, axis=others)
    order = np.argsort(-counts, kind="stable")
    return [int(n) for n in order if counts[n] > 0]
