"""Fewer contour points: redundant-point removal and Douglas–Peucker simplification of closed loops.

Both work on packed loops (``points``, ``offsets``; loop ``m`` is ``points[offsets[m]:offsets[m+1]]``)
so that all loops of a structure are processed together, one numpy pass per level of the
Douglas–Peucker recursion rather than one Python call per loop.

Points that occur more than once in a loop (the ends of keyhole cuts) are never removed, so cuts
stay exactly zero-width. With a tolerance below half a voxel, loops that were at least one voxel
apart cannot cross after simplification.
"""

from __future__ import annotations

import numpy as np

from ..errors import GeometryError


def redundant_points(points: np.ndarray, offsets: np.ndarray, pinned: np.ndarray | None = None) -> np.ndarray:
    """Mask of points that repeat their predecessor or continue straight on (collinear, same way).

    Parameters
    ----------
    points : numpy.ndarray
        ``(n, 2)`` coordinates (exact collinearity is tested, so use the exact values).
    offsets : numpy.ndarray
        ``(n_loops + 1,)`` loop boundaries; loops are cyclic.
    pinned : numpy.ndarray, optional
        ``(n,)`` bool, points never to report.
    """
    previous, following = _neighbours(offsets, len(points))
    d_in = points - points[previous]
    d_out = points[following] - points
    repeat = (d_in == 0).all(axis=1)
    cross = d_in[:, 0] * d_out[:, 1] - d_in[:, 1] * d_out[:, 0]
    dot = (d_in * d_out).sum(axis=1)
    redundant = repeat | ((cross == 0) & (dot > 0))
    return redundant if pinned is None else redundant & ~pinned


def drop_redundant_points(points: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The loops without their :func:`redundant_points`, as ``(points, offsets)``."""
    keep = ~redundant_points(points, offsets)
    kept_offsets = np.zeros_like(offsets)
    if len(points):
        np.cumsum(np.add.reduceat(keep.astype(np.int64), offsets[:-1]), out=kept_offsets[1:])
    return points[keep], kept_offsets


def simplify_packed(points: np.ndarray, offsets: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Douglas–Peucker on every closed loop; returns the kept ``(points, offsets)``.

    Each loop keeps its first point, the point farthest from it, and every point that occurs more
    than once in it; a loop that would fall below three points is kept unchanged.

    Raises
    ------
    GeometryError
        If ``tolerance`` is negative or not finite.
    """
    if not (np.isfinite(tolerance) and tolerance >= 0):
        raise GeometryError(f"Simplification tolerance {tolerance!r} is not a non-negative number.",
                            hint="Give the tolerance in voxels, e.g. 0.5.")
    keep = _anchors(points, offsets)
    intervals = _anchor_intervals(keep, offsets)
    while len(intervals[0]):
        intervals = _split_far_intervals(points, offsets, keep, intervals, tolerance)
    lengths = np.add.reduceat(keep.astype(np.int64), offsets[:-1]) if len(points) else np.zeros(0, np.int64)
    too_few = np.repeat(lengths < 3, np.diff(offsets))
    keep |= too_few
    kept_offsets = np.zeros_like(offsets)
    np.cumsum(np.where(lengths < 3, np.diff(offsets), lengths), out=kept_offsets[1:])
    return points[keep], kept_offsets


def simplify_polygon(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Douglas–Peucker simplification of one closed ``(n, 2)`` polygon (see :func:`simplify_packed`)."""
    points = np.asarray(points, dtype=np.float64)
    kept, _ = simplify_packed(points, np.array([0, len(points)]), tolerance)
    return kept


def _neighbours(offsets: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Index of the previous and next point of every point, wrapping within its loop."""
    index = np.arange(n)
    previous, following = index - 1, index + 1
    nonempty = offsets[1:] > offsets[:-1]
    first, last = offsets[:-1][nonempty], offsets[1:][nonempty] - 1
    previous[first], following[last] = last, first
    return previous, following


def _anchors(points: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Points every simplification keeps: first, farthest from first, and repeated points."""
    keep = np.zeros(len(points), dtype=bool)
    nonempty = offsets[1:] > offsets[:-1]
    first = offsets[:-1][nonempty]
    keep[first] = True
    loop = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    distance = np.hypot(*(points - points[offsets[:-1][loop]]).T)
    farthest = np.maximum.reduceat(distance, first) if len(first) else distance[:0]
    is_far = distance == np.repeat(farthest, np.diff(offsets)[nonempty])
    keep[_first_true_per_loop(is_far, offsets)] = True
    order = np.lexsort((points[:, 1], points[:, 0], loop))
    same = (np.diff(points[order], axis=0) == 0).all(axis=1) & (loop[order][1:] == loop[order][:-1])
    keep[order[1:][same]] = True
    keep[order[:-1][same]] = True
    return keep


def _first_true_per_loop(flags: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    candidates = np.flatnonzero(flags)
    loop = np.searchsorted(offsets, candidates, side="right") - 1
    return candidates[np.r_[True, loop[1:] != loop[:-1]]] if len(candidates) else candidates


def _anchor_intervals(keep: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Consecutive kept points of each loop: (loop, start, end), positions counted from the loop start.

    The last interval of a loop wraps: its end is the loop's first kept point plus the loop length.
    """
    kept = np.flatnonzero(keep)
    loop = np.searchsorted(offsets, kept, side="right") - 1
    position = kept - offsets[loop]
    new_loop = np.r_[True, loop[1:] != loop[:-1]]
    last_of_loop = np.r_[new_loop[1:], True]
    end = np.empty_like(position)
    end[:-1] = position[1:]
    end[last_of_loop] = position[new_loop] + np.diff(offsets)[loop[last_of_loop]]
    return loop, position, end


def _split_far_intervals(points: np.ndarray, offsets: np.ndarray, keep: np.ndarray,
                         intervals: tuple[np.ndarray, np.ndarray, np.ndarray],
                         tolerance: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Douglas–Peucker level: keep the farthest point of each interval beyond tolerance, split there."""
    loop, start, end = intervals
    inner = end - start - 1
    loop, start, end, inner = loop[inner > 0], start[inner > 0], end[inner > 0], inner[inner > 0]
    if len(start) == 0:
        return loop, start, end
    length = np.diff(offsets)

    def flat(which: np.ndarray, position: np.ndarray) -> np.ndarray:
        return offsets[which] + position % length[which]

    interval = np.repeat(np.arange(len(start)), inner)
    first = np.cumsum(inner) - inner
    position = start[interval] + 1 + np.arange(len(interval)) - first[interval]
    distance = _segment_distance(points[flat(loop[interval], position)], points[flat(loop, start)][interval],
                                 points[flat(loop, end)][interval])
    worst = np.maximum.reduceat(distance, first)
    split = worst > tolerance
    candidate = np.where(distance == worst[interval], np.arange(len(distance)), len(distance))
    at = position[np.minimum.reduceat(candidate, first)[split]]
    keep[flat(loop[split], at)] = True
    return np.r_[loop[split], loop[split]], np.r_[start[split], at], np.r_[at, end[split]]


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from each point ``p`` to the segment ``a``-``b`` (to ``a`` when it has no length)."""
    ab = b - a
    length2 = (ab * ab).sum(axis=1)
    t = np.clip(((p - a) * ab).sum(axis=1) / np.where(length2 > 0, length2, 1.0), 0.0, 1.0)
    return np.hypot(*(p - a - t[:, None] * ab).T)
