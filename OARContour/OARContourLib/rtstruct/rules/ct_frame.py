"""The CT as the verifier sees it: slice planes, image UIDs and where each contour lies.

A contour's plane is compared with the CT slice planes along the slice normal (the third column of
the CT direction matrix). It coincides with slice ``k`` when its distance is within
``PLANE_TOLERANCE_MM + PLANE_TOLERANCE_FRACTION * slice spacing``: 0.01 mm absorbs the rounding of
ContourData to two decimals (at most 0.005 mm per coordinate), the relative part absorbs exporters
that round positions to a fraction of the slice gap, and both stay far below any real misplacement.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ...ct.model import CTVolume

PLANE_TOLERANCE_MM = 0.01
PLANE_TOLERANCE_FRACTION = 0.001
#: Index-space margin (voxels) beyond the outer voxel boundary before a point counts as outside.
EXTENT_MARGIN_VOXELS = 1e-3


@dataclass(frozen=True)
class ContourPlane:
    """Where one contour lies relative to the CT slices.

    ``slice_index`` is the CT slice whose plane holds the contour, or None when no slice does;
    ``nearest_index`` and ``distance_mm`` describe the closest slice either way. ``spread_mm`` is how
    far the points stray along the slice normal; ``planar`` tells whether they lie on any one plane
    (which may be tilted relative to the slices when ``spread_mm`` exceeds the tolerance).
    """

    position_mm: float
    spread_mm: float
    planar: bool
    nearest_index: int
    distance_mm: float
    slice_index: int | None


class CTFrame:
    """Slice geometry and image identity of a loaded CT, in the forms the rules need."""

    def __init__(self, ct: CTVolume) -> None:
        self.ct = ct
        direction = ct.geometry.direction_matrix
        self.axis_i = direction[:, 0]
        self.axis_j = direction[:, 1]
        self.normal = direction[:, 2]
        self.tolerance_mm = PLANE_TOLERANCE_MM + PLANE_TOLERANCE_FRACTION * float(ct.geometry.spacing_mm[2])

    @cached_property
    def slice_positions_mm(self) -> np.ndarray:
        """Position of every slice plane along the normal, in slice (k) order."""
        origins = np.array([s.image_position_patient for s in self.ct.slices], dtype=float).reshape(-1, 3)
        return origins @ self.normal

    @cached_property
    def index_of_uid(self) -> dict[str, int]:
        """SOP Instance UID -> slice index k."""
        return {s.sop_instance_uid: k for k, s in enumerate(self.ct.slices) if s.sop_instance_uid}

    @cached_property
    def lps_to_ijk(self) -> np.ndarray:
        return np.linalg.inv(self.ct.geometry.ijk_to_lps())

    def in_plane(self, points_lps: np.ndarray) -> np.ndarray:
        """``(n, 2)`` coordinates (mm) of points along the CT's column and row axes."""
        return np.stack([points_lps @ self.axis_i, points_lps @ self.axis_j], axis=1)

    def to_index(self, points_lps: np.ndarray) -> np.ndarray:
        """``(n, 3)`` continuous ``(i, j, k)`` indices of LPS points."""
        return points_lps @ self.lps_to_ijk[:3, :3].T + self.lps_to_ijk[:3, 3]

    def plane_of(self, points_lps: np.ndarray) -> ContourPlane:
        """Locate the plane of a contour's points (at least one point)."""
        along = points_lps @ self.normal
        position = float(along.mean())
        spread = float(np.ptp(along))
        planar = spread <= self.tolerance_mm or _is_planar(points_lps, self.tolerance_mm)
        distances = np.abs(self.slice_positions_mm - position)
        nearest = int(np.argmin(distances))
        on_slice = spread <= self.tolerance_mm and float(distances[nearest]) <= self.tolerance_mm
        return ContourPlane(position, spread, planar, nearest, float(distances[nearest]),
                            nearest if on_slice else None)

    def outside_extent(self, points_lps: np.ndarray) -> np.ndarray:
        """Boolean per point: beyond the outer voxel boundaries of the grid in i or j."""
        index = self.to_index(points_lps)
        _, rows, columns = self.ct.geometry.shape
        low = -0.5 - EXTENT_MARGIN_VOXELS
        return ((index[:, 0] < low) | (index[:, 0] > columns - 0.5 + EXTENT_MARGIN_VOXELS)
                | (index[:, 1] < low) | (index[:, 1] > rows - 0.5 + EXTENT_MARGIN_VOXELS))


def _is_planar(points: np.ndarray, tolerance_mm: float) -> bool:
    """True when all points lie within ``tolerance_mm`` of one plane (any orientation)."""
    if len(points) < 4:
        return True
    centred = points - points.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return float(np.abs(centred @ vt[-1]).max()) <= tolerance_mm
