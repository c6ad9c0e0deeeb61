"""Self-intersection of closed polygons, for many polygons at once, without a Python loop over edges.

Every pair of edges of the same polygon whose bounding boxes overlap is classified with the four
orientation signs of segment-intersection tests:

- **crossing**: the interiors cross transversally (each edge has the other's ends strictly on
  opposite sides). Always an error: the polygon is not simple.
- **retraced**: the edges are collinear, overlap over a positive length and run in *opposite*
  directions. This is a zero-width cut: the bridge of a keyhole contour (PS3.3 C.8.8.6.3), walked
  once in each direction, or a zero-width spike. Both cancel in even-odd filling, so they are
  allowed and only counted.
- **overlap**: collinear, overlapping, *same* direction: the polygon walks an edge twice the same
  way, which no hole encoding produces. An error.
- Everything else (disjoint edges, or edges that only touch at a point, such as neighbouring edges,
  keyhole bridge ends and polygons pinched at a vertex) is allowed. A polygon that passes *through*
  one of its own vertices is therefore not reported; contours traced on the voxel grid never do.

Candidate pairs come from a sort-and-sweep along the in-plane axis with the smaller total overlap:
each polygon is shifted so that polygons never share a sweep range, and an edge is paired with the
later edges whose extent starts before its own ends. Pairs are produced in chunks to bound memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

#: Candidate pairs classified per chunk (about 100 bytes each).
_PAIRS_PER_CHUNK = 2_000_000
#: Orientation values below this fraction of the edges' squared lengths count as collinear.
_COLLINEAR_EPSILON = 1e-9


@dataclass(frozen=True)
class Intersections:
    """Per polygon: counts of crossing, same-direction overlap and retraced (allowed) edge pairs.

    ``where`` holds, per polygon, one point (in the input coordinates) of its first error, or NaN.
    """

    crossings: np.ndarray
    overlaps: np.ndarray
    retraced: np.ndarray
    where: np.ndarray

    @property
    def has_error(self) -> np.ndarray:
        return (self.crossings > 0) | (self.overlaps > 0)


def find_self_intersections(points: np.ndarray, offsets: np.ndarray) -> Intersections:
    """Classify edge pairs of closed polygons given as packed ``(n, 2)`` points and offsets.

    Polygon ``m`` is ``points[offsets[m]:offsets[m + 1]]``; its closing edge (last to first point) is
    implied. Zero-length edges (repeated points) are ignored.
    """
    n_polygons = len(offsets) - 1
    start, end, polygon = _edges(points, offsets)
    counts = np.zeros((3, n_polygons), dtype=np.int64)
    where = np.full((n_polygons, 2), np.nan)
    for first, second in _candidate_pairs(start, end, polygon):
        kind = _classify(start[first], end[first], start[second], end[second])
        for row, flag in enumerate(kind):
            counts[row] += np.bincount(polygon[first][flag], minlength=n_polygons)
        bad = kind[0] | kind[1]
        _note_first(where, polygon[first][bad], start[first][bad], end[first][bad])
    return Intersections(counts[0], counts[1], counts[2], where)


def _edges(points: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lengths = np.diff(offsets)
    following = np.arange(len(points)) + 1
    closing = offsets[1:][lengths > 0] - 1
    following[closing] = offsets[:-1][lengths > 0]
    polygon = np.repeat(np.arange(len(lengths)), lengths)
    start, end = points, points[following]
    real = np.any(start != end, axis=1)
    return start[real], end[real], polygon[real]


def _candidate_pairs(start: np.ndarray, end: np.ndarray,
                     polygon: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(first, second)`` index arrays of edges of one polygon with overlapping extents."""
    if len(start) < 2:
        return
    low, high = np.minimum(start, end), np.maximum(start, end)
    axis, count_all, order_all = min((_sweep(a, low, high, polygon) for a in (0, 1)),
                                     key=lambda sweep: int(sweep[1].sum()))
    chunk_of = np.cumsum(count_all) // _PAIRS_PER_CHUNK
    for chunk in np.unique(chunk_of[count_all > 0]):
        rows = np.flatnonzero((chunk_of == chunk) & (count_all > 0))
        count = count_all[rows]
        first = np.repeat(rows, count)
        second = first + 1 + np.arange(len(first)) - np.repeat(np.cumsum(count) - count, count)
        first, second = order_all[first], order_all[second]
        other = 1 - axis
        keep = ((low[first, other] <= high[second, other]) & (low[second, other] <= high[first, other])
                & (polygon[first] == polygon[second]))
        yield first[keep], second[keep]


def _sweep(axis: int, low: np.ndarray, high: np.ndarray, polygon: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """Sweep along one axis: (axis, number of later candidates per sorted edge, sort order)."""
    start, stop = low[:, axis], high[:, axis]
    lowest = np.full(polygon.max() + 1, np.inf)
    np.minimum.at(lowest, polygon, start)
    highest = np.full(polygon.max() + 1, -np.inf)
    np.maximum.at(highest, polygon, stop)
    # Shift each polygon past the previous one so that one sorted sweep never pairs two polygons.
    shift = polygon * (float(np.max(highest - lowest)) + 1.0) - lowest[polygon]
    key_start, key_stop = start + shift, stop + shift
    order = np.argsort(key_start, kind="stable")
    sorted_start = key_start[order]
    margin = 1e-9 * (1.0 + float(np.abs(sorted_start).max()))
    reach = np.searchsorted(sorted_start, key_stop[order] + margin, side="right")
    return axis, np.maximum(reach - np.arange(len(order)) - 1, 0), order


def _classify(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, ...]:
    """Masks (crossing, same-direction overlap, retraced) for edge pairs ab, cd."""
    ab, cd = b - a, d - c
    scale = _COLLINEAR_EPSILON * (np.einsum("ij,ij->i", ab, ab) + np.einsum("ij,ij->i", cd, cd))
    s1, s2 = _side(ab, c - a, scale), _side(ab, d - a, scale)
    s3, s4 = _side(cd, a - c, scale), _side(cd, b - c, scale)
    crossing = (s1 * s2 < 0) & (s3 * s4 < 0)
    collinear = (s1 == 0) & (s2 == 0) & (s3 == 0) & (s4 == 0)
    length2 = np.einsum("ij,ij->i", ab, ab)
    t_c = np.einsum("ij,ij->i", c - a, ab) / length2
    t_d = np.einsum("ij,ij->i", d - a, ab) / length2
    shared = np.minimum(1.0, np.maximum(t_c, t_d)) - np.maximum(0.0, np.minimum(t_c, t_d))
    overlapping = collinear & (shared > 1e-9)
    same_direction = np.einsum("ij,ij->i", ab, cd) > 0
    return crossing, overlapping & same_direction, overlapping & ~same_direction


def _side(direction: np.ndarray, offset: np.ndarray, scale: np.ndarray) -> np.ndarray:
    cross = direction[:, 0] * offset[:, 1] - direction[:, 1] * offset[:, 0]
    return np.where(np.abs(cross) <= scale, 0, np.sign(cross))


def _note_first(where: np.ndarray, polygon: np.ndarray, start: np.ndarray, end: np.ndarray) -> None:
    """Record the midpoint of the first offending edge of each polygon not yet noted."""
    for m, p, q in zip(polygon.tolist(), start, end):
        if np.isnan(where[m, 0]):
            where[m] = (p + q) / 2
