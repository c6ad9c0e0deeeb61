"""The voxel grid of one scan: where each voxel centre lies in LPS for a given patient position.

The scanner frame is fixed: columns run to the viewer's right, rows toward the floor, and the
patient's body centre sits ``table_height_mm`` above the isocentre. The patient position decides how
that frame maps to LPS (see :attr:`PatientPosition.axis_signs`). Because every position only flips
axes, x depends on the column alone, y on the row and z on the slice, so a block of the grid is
three short coordinate vectors.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ..ct.model import ImageGeometry
from .model import PatientPosition
from .shapes import Box

logger = logging.getLogger(__name__)

Block = tuple[slice, slice, slice]


@dataclass(frozen=True)
class ScanPlan:
    """Default z coverage of a variant: ``slices`` slices ``spacing_mm`` apart, top slice at ``z_top_mm``."""

    z_top_mm: float
    slices: int
    spacing_mm: float
    table_height_mm: float

    @property
    def z_centre_mm(self) -> float:
        return self.z_top_mm - (self.slices - 1) * self.spacing_mm / 2.0

    @property
    def span_mm(self) -> float:
        return (self.slices - 1) * self.spacing_mm

    def resolve(self, slices: int | None, spacing_mm: float | None) -> tuple[int, float]:
        """Slice count and spacing: the defaults, or the same span with the one value given."""
        if slices is None and spacing_mm is None:
            return self.slices, self.spacing_mm
        if slices is None:
            assert spacing_mm is not None
            return max(2, int(round(self.span_mm / spacing_mm)) + 1), spacing_mm
        if spacing_mm is None:
            spacing_mm = self.spacing_mm if slices < 2 else round(self.span_mm / (slices - 1), 2)
        return slices, spacing_mm


@dataclass(frozen=True, eq=False)
class ScanGrid:
    """Voxel-centre coordinates (LPS mm) along each axis plus the scanner facts the image needs."""

    geometry: ImageGeometry
    x_mm: np.ndarray
    y_mm: np.ndarray
    z_mm: np.ndarray
    down: float
    fov_radius_mm: float
    scanner_x_mm: np.ndarray
    scanner_y_mm: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.z_mm.size, self.y_mm.size, self.x_mm.size)

    def block(self, box: Box) -> Block | None:
        """Index block of the voxels whose centres lie in ``box``; None when there are none."""
        ranges = []
        for coords, lo, hi in ((self.z_mm, box.lo[2], box.hi[2]), (self.y_mm, box.lo[1], box.hi[1]),
                               (self.x_mm, box.lo[0], box.hi[0])):
            hits = np.flatnonzero((coords >= lo) & (coords <= hi))
            if hits.size == 0:
                return None
            ranges.append(slice(int(hits[0]), int(hits[-1]) + 1))
        return ranges[0], ranges[1], ranges[2]

    def coords(self, block: Block) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Broadcastable x (1,1,ni), y (1,nj,1), z (nk,1,1) of a block."""
        k, j, i = block
        return self.x_mm[i][None, None, :], self.y_mm[j][None, :, None], self.z_mm[k][:, None, None]

    def inside_fov(self) -> np.ndarray:
        """(nj, ni) bool: voxel centres inside the reconstruction circle."""
        r2 = self.scanner_x_mm[None, :] ** 2 + self.scanner_y_mm[:, None] ** 2
        return np.asarray(r2 <= self.fov_radius_mm**2)


def make_grid(plan: ScanPlan, rows: int, columns: int, slices: int, pixel_spacing_mm: float,
              slice_spacing_mm: float, position: PatientPosition) -> ScanGrid:
    """Grid centred on the variant's scan range; slice 0 is the first along the slice normal."""
    sx, sy, sz = position.axis_signs
    scanner_x = (np.arange(columns) - (columns - 1) / 2.0) * pixel_spacing_mm
    scanner_y = (np.arange(rows) - (rows - 1) / 2.0) * pixel_spacing_mm
    # Round so that positions written as decimal strings equal the in-memory geometry exactly.
    x = np.round(sx * scanner_x, 4)
    y = np.round(sy * (scanner_y + plan.table_height_mm), 4)
    z_low = round(plan.z_centre_mm - (slices - 1) * slice_spacing_mm / 2.0, 3)
    z_first = z_low if sz > 0 else round(z_low + (slices - 1) * slice_spacing_mm, 3)
    z = np.round(z_first + sz * slice_spacing_mm * np.arange(slices), 4)
    geometry = ImageGeometry(
        shape=(slices, rows, columns),
        spacing_mm=(pixel_spacing_mm, pixel_spacing_mm, slice_spacing_mm),
        origin_lps=(float(x[0]), float(y[0]), float(z[0])),
        direction=((sx, 0.0, 0.0), (0.0, sy, 0.0), (0.0, 0.0, sz)),
    )
    fov_radius = min(rows, columns) * pixel_spacing_mm / 2.0
    return ScanGrid(geometry, x, y, z, sy, fov_radius, scanner_x, scanner_y)
