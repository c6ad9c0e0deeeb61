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

from .surface import TOLERANCE_SLACK_MM, distance_to_border, exposed_area


def added_path_length_mm(reference: np.ndarray, test: np.ndarray, spacing_kji: tuple[float, float, float],
                         tolerance_mm: float) -> float:
    """APL in mm of ``test`` against ``reference``: cropped ``(k, j, i)`` masks (empty border)."""
    in_plane = (spacing_kji[1], spacing_kji[2])
    total = 0.0
    for k in np.flatnonzero(test.any(axis=(1, 2))):
        length = exposed_area(test[k], in_plane)
        border_t = length > 0
        border_r = exposed_area(reference[k], in_plane) > 0
        if not border_r.any():
            total += float(length.sum())
            continue
        far = distance_to_border(border_r, in_plane)[border_t] > tolerance_mm + TOLERANCE_SLACK_MM
        total += float(length[border_t][far].sum())
    return total
