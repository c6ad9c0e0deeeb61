"""Added path length (APL): how much of the test contour an editor would have to redraw.

Per CT slice ``k``, the test contour is the 2D border of the test mask (pixels with a 4-neighbour
outside), each border pixel standing for the length of its pixel edges that face the outside (a
vertical edge is one row spacing long, a horizontal one a column spacing). The part of the test
contour lying farther than the tolerance from the reference contour of the *same slice* (nearest
reference border-pixel centre; all of it when the reference is absent on that slice) is summed over
slices (Vaassen et al. 2020). Staircase edges overstate an oblique contour's length by up to √2,
equally for every structure, so APL compares structures and editors, not absolute pen travel.
"""

from __future__ import annotations

import numpy as np

from .surface import TOLERANCE_SLACK_MM, nearest_distances, surface_points

#: Distance in mm put between consecutive slices, so the nearest reference contour point of a test
#: point always lies on its own slice when that slice has one, and is beyond any tolerance otherwise.
_SLICE_APART_MM = 1.0e6


def added_path_length_mm(reference: np.ndarray, test: np.ndarray, spacing_kji: tuple[float, float, float],
                         tolerance_mm: float) -> float:
    """APL in mm of ``test`` against ``reference``: cropped ``(k, j, i)`` masks (empty border)."""
    spacing = (_SLICE_APART_MM, spacing_kji[1], spacing_kji[2])
    points_t, length_t = surface_points(test, spacing, axes=(1, 2))
    if length_t.size == 0:
        return 0.0
    points_r, _ = surface_points(reference, spacing, axes=(1, 2))
    if points_r.shape[0] == 0:
        return float(length_t.sum())
    far = nearest_distances(points_t, points_r) > tolerance_mm + TOLERANCE_SLACK_MM
    return float(length_t[far].sum())
