"""Boolean masks kept as their bounding block plus offset, so 100+ structures stay cheap."""

from __future__ import annotations

import numpy as np


def crop(mask: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int]]:
    """The smallest block holding every nonzero voxel, and its offset; an empty (0,0,0) block if none.

    Works on bool or integer masks; the block keeps the input's dtype (a copy, contiguous).
    """
    slices = np.flatnonzero(mask.reshape(mask.shape[0], -1).any(axis=1)) if mask.size else np.empty(0, int)
    if slices.size == 0:
        return np.zeros((0, 0, 0), dtype=mask.dtype), (0, 0, 0)
    slab = mask[slices[0]: slices[-1] + 1]
    rows = np.flatnonzero(slab.any(axis=(0, 2)))
    columns = np.flatnonzero(slab.any(axis=(0, 1)))
    block = slab[:, rows[0]: rows[-1] + 1, columns[0]: columns[-1] + 1]
    return np.ascontiguousarray(block), (int(slices[0]), int(rows[0]), int(columns[0]))


def paste(block: np.ndarray, offset_kji: tuple[int, ...], shape_kji: tuple[int, ...]) -> np.ndarray:
    """A full-grid boolean mask holding ``block`` at ``offset_kji`` (the inverse of :func:`crop`)."""
    out = np.zeros(shape_kji, dtype=bool)
    block = np.asarray(block, dtype=bool)
    if block.size:
        k, j, i = offset_kji
        out[k:k + block.shape[0], j:j + block.shape[1], i:i + block.shape[2]] = block
    return out
