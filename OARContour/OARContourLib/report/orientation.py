"""Put a CT grid into patient axis order, so every view is drawn the same way for every patient position.

The loader keeps voxels in scanner order (k, j, i). A feet-first or prone scan runs its axes the
other way round in patient space, so drawing the raw array would put the patient's left on the
wrong side. Here arrays are transposed and flipped into (z, y, x) order with x toward the
patient's left, y toward posterior and z toward superior (LPS increasing along every axis).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ct.model import ImageGeometry


@dataclass(frozen=True)
class LpsGrid:
    """How a (k, j, i) grid maps onto LPS-sorted (z, y, x) arrays.

    ``lps_axis`` names, for each array axis k, j, i, the LPS axis (0 = x, 1 = y, 2 = z) it runs
    along most closely; ``flip`` is True where it runs toward decreasing LPS. ``spacing_mm`` and
    ``first_mm`` are per LPS axis (x, y, z): voxel size and the coordinate of index 0 after sorting.
    """

    lps_axis: tuple[int, int, int]
    flip: tuple[bool, bool, bool]
    spacing_mm: tuple[float, float, float]
    first_mm: tuple[float, float, float]
    shape_zyx: tuple[int, int, int]

    @classmethod
    def from_geometry(cls, geometry: ImageGeometry) -> LpsGrid:
        # Direction columns are the i, j, k axes; array axes are k, j, i.
        columns = geometry.direction_matrix[:, ::-1]
        lps_axis = tuple(int(np.argmax(np.abs(columns[:, axis]))) for axis in range(3))
        if sorted(lps_axis) != [0, 1, 2]:  # a strongly oblique grid: keep scanner order
            lps_axis = (2, 1, 0)
        flip = tuple(bool(columns[lps_axis[axis], axis] < 0) for axis in range(3))
        spacing_kji = geometry.spacing_mm[::-1]
        spacing = [0.0, 0.0, 0.0]
        first = [0.0, 0.0, 0.0]
        shape = [0, 0, 0]
        corner_far = geometry.ijk_to_lps() @ np.append(np.asarray(geometry.shape[::-1], float) - 1.0, 1.0)
        for axis, target in enumerate(lps_axis):
            spacing[target] = float(spacing_kji[axis])
            first[target] = float(min(geometry.origin_lps[target], corner_far[target]))
            shape[2 - target] = geometry.shape[axis]
        return cls(lps_axis, flip, (spacing[0], spacing[1], spacing[2]),  # type: ignore[arg-type]
                   (first[0], first[1], first[2]), (shape[0], shape[1], shape[2]))

    def to_zyx(self, array_kji: np.ndarray) -> np.ndarray:
        """A view of ``array_kji`` in (z, y, x) order, each axis increasing toward L, P and S."""
        flipped = np.flip(array_kji, axis=tuple(axis for axis in range(3) if self.flip[axis]))
        # Array axis a (k, j, i) becomes output axis 2 - lps_axis[a] (z, y, x).
        order = [self.lps_axis.index(2 - out) for out in range(3)]
        return np.transpose(flipped, order)

    def sorted_block(self, block_kji: np.ndarray, offset_kji: tuple[int, ...] = (0, 0, 0)) -> SortedBlock:
        """A block of the grid (or the whole grid, at offset 0) in (z, y, x) order, and where it starts there.

        :meth:`to_zyx` of the full grid holding ``block_kji`` at ``offset_kji`` equals the returned
        block placed at its offset, so a view needs the block alone, never the whole grid.
        """
        offset_zyx = [0, 0, 0]
        for axis in range(3):
            out = 2 - self.lps_axis[axis]
            start, size = offset_kji[axis], block_kji.shape[axis]
            # A flipped axis counts from the other end: the block's last voxel becomes its first.
            offset_zyx[out] = self.shape_zyx[out] - start - size if self.flip[axis] else start
        return SortedBlock(self.to_zyx(block_kji), (offset_zyx[0], offset_zyx[1], offset_zyx[2]))

    def position_mm(self, lps_axis: int, index: int) -> float:
        """LPS coordinate of voxel ``index`` along sorted axis ``lps_axis`` (0 = x, 1 = y, 2 = z)."""
        return self.first_mm[lps_axis] + index * self.spacing_mm[lps_axis]


@dataclass(frozen=True)
class SortedBlock:
    """A boolean block in (z, y, x) order (see :meth:`LpsGrid.to_zyx`) and the index of its first voxel there."""

    block: np.ndarray
    offset_zyx: tuple[int, int, int]

    def indices_along(self, axis: int) -> np.ndarray:
        """Indices along ``axis`` (0 = z, 1 = y, 2 = x) of the sorted grid where the block has a voxel, ascending."""
        if self.block.size == 0:
            return np.empty(0, dtype=int)
        others = tuple(a for a in range(3) if a != axis)
        return np.flatnonzero(self.block.any(axis=others)) + self.offset_zyx[axis]
