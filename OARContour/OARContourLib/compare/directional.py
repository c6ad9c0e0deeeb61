"""Where along each patient axis a test structure extends beyond (or falls short of) the reference.

Both masks are put in LPS order (:class:`~OARContourLib.report.orientation.LpsGrid`). For each axis
and each line of voxels along it that both masks cross, the test's first and last voxel are
compared with the reference's: how much farther the test reaches toward the patient's right and
left, anterior and posterior, inferior and superior. The means over all such lines, in mm, say
"your Parotid_L is 4.1 mm larger left–right on average". DICOM patient coordinates (LPS) are
fixed to the patient, so the words are right for head-first, feet-first, supine and prone scans.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ct.model import ImageGeometry
from ..report.orientation import LpsGrid

#: Per LPS axis: (toward decreasing, toward increasing) coordinate, and the extent it measures.
DIRECTIONS = (("the patient's right", "the patient's left"), ("the front (anterior)", "the back (posterior)"),
              ("the feet (inferior)", "the head (superior)"))
EXTENTS = ("left–right", "antero-posteriorly", "cranio-caudally")


@dataclass(frozen=True)
class AxisExtension:
    """Mean extra reach of the test, in mm, at both ends of one LPS axis (negative: falls short)."""

    axis: int
    toward_minus_mm: float
    toward_plus_mm: float
    lines: int

    @property
    def size_change_mm(self) -> float:
        """Mean change in extent along the axis (positive: the test is larger)."""
        return self.toward_minus_mm + self.toward_plus_mm

    def to_dict(self) -> dict[str, Any]:
        minus, plus = DIRECTIONS[self.axis]
        return {"axis": "xyz"[self.axis], "toward_minus_mm": self.toward_minus_mm, "toward_plus_mm": self.toward_plus_mm,
                "minus_direction": minus, "plus_direction": plus, "lines": self.lines}


def axis_extensions(reference: np.ndarray, test: np.ndarray, geometry: ImageGeometry) -> tuple[AxisExtension, ...]:
    """One :class:`AxisExtension` per LPS axis (x, y, z) that both masks share lines along."""
    grid = LpsGrid.from_geometry(geometry)
    ref_zyx, test_zyx = grid.to_zyx(reference), grid.to_zyx(test)
    found = []
    for lps_axis in range(3):
        array_axis = 2 - lps_axis
        first_r, last_r, has_r = _ends(ref_zyx, array_axis)
        first_t, last_t, has_t = _ends(test_zyx, array_axis)
        both = has_r & has_t
        if not both.any():
            continue
        step = grid.spacing_mm[lps_axis]
        found.append(AxisExtension(lps_axis, float(np.mean(first_r[both] - first_t[both])) * step,
                                   float(np.mean(last_t[both] - last_r[both])) * step, int(both.sum())))
    return tuple(found)


def _ends(mask: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First and last index along ``axis`` of every line, and which lines hold any voxel."""
    length = mask.shape[axis]
    has = np.asarray(mask.any(axis=axis))
    first = np.argmax(mask, axis=axis)
    last = length - 1 - np.argmax(np.flip(mask, axis=axis), axis=axis)
    return first, last, has
