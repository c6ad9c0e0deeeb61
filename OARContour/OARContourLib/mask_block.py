"""Boolean masks kept as their bounding block plus offset, so 100+ structures stay cheap."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


def fits(block: np.ndarray, offset_kji: Sequence[int], shape_kji: Sequence[int]) -> bool:
    """True when a 3-D ``block`` placed at ``offset_kji`` lies inside a grid of ``shape_kji``."""
    return block.ndim == 3 and len(shape_kji) == 3 and all(
        o >= 0 and o + n <= size for o, n, size in zip(offset_kji, block.shape, shape_kji))


@dataclass(frozen=True)
class MaskBlock:
    """A boolean mask on a grid stored as its block and the block's offset (k, j, i) in the grid."""

    block: np.ndarray
    offset_kji: tuple[int, int, int] = (0, 0, 0)

    @classmethod
    def of(cls, mask: np.ndarray) -> MaskBlock:
        """The block of a full-grid mask (cropped to its nonzero voxels)."""
        block, offset = crop(np.asarray(mask, dtype=bool))
        return cls(block, offset)

    @property
    def voxels(self) -> int:
        return int(np.count_nonzero(self.block))

    def full(self, shape_kji: tuple[int, ...]) -> np.ndarray:
        """The mask on the whole grid."""
        return paste(self.block, self.offset_kji, shape_kji)


def overlap_count(a: MaskBlock, b: MaskBlock) -> int:
    """Number of voxels set in both blocks (compared only where their boxes meet)."""
    if a.block.size == 0 or b.block.size == 0:
        return 0
    lo = [max(p, q) for p, q in zip(a.offset_kji, b.offset_kji)]
    hi = [min(p + n, q + m) for p, n, q, m in zip(a.offset_kji, a.block.shape, b.offset_kji, b.block.shape)]
    if any(h <= low for low, h in zip(lo, hi)):
        return 0
    in_a = tuple(slice(low - o, h - o) for low, h, o in zip(lo, hi, a.offset_kji))
    in_b = tuple(slice(low - o, h - o) for low, h, o in zip(lo, hi, b.offset_kji))
    return int(np.count_nonzero(np.logical_and(a.block[in_a], b.block[in_b])))
