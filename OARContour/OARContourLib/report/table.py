"""The per-structure table: one row per ROI with what a reviewer checks first."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ct.model import ImageGeometry
from ..findings import Finding
from .content import ReviewedStructure
from .orientation import LpsGrid
from .render import Color


@dataclass(frozen=True)
class StructureRow:
    """Name, RT ROI type, colour, volume and extent of one ROI, with its findings.

    ``first_z_mm``/``last_z_mm`` are the LPS z (superior positive) of the lowest and highest slice
    holding the structure; both None for an empty structure.
    """

    name: str
    roi_type: str
    color: Color
    volume_cc: float
    slice_count: int
    first_z_mm: float | None
    last_z_mm: float | None
    findings: tuple[Finding, ...]

    @property
    def hex_color(self) -> str:
        return "#{:02x}{:02x}{:02x}".format(*self.color)

    @property
    def is_empty(self) -> bool:
        return self.slice_count == 0


def structure_rows(structures: tuple[ReviewedStructure, ...], geometry: ImageGeometry) -> tuple[StructureRow, ...]:
    """Rows in ROI order; volumes are of the contours as rasterised on the CT grid (counted in their blocks)."""
    grid = LpsGrid.from_geometry(geometry)
    voxel_cc = float(np.prod(geometry.spacing_mm)) / 1000.0
    return tuple(_row(structure, grid, voxel_cc) for structure in structures)


def _row(structure: ReviewedStructure, grid: LpsGrid, voxel_cc: float) -> StructureRow:
    z_present = grid.sorted_block(structure.mask.block, structure.mask.offset_kji).indices_along(0)
    first = grid.position_mm(2, int(z_present[0])) if z_present.size else None
    last = grid.position_mm(2, int(z_present[-1])) if z_present.size else None
    return StructureRow(structure.name, structure.roi_type or "(none)", structure.color,
                        structure.mask.voxels * voxel_cc, int(z_present.size), first, last,
                        structure.findings)
