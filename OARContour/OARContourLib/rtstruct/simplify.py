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
    """Mask of points that repeat their predecessor or, once repeats are gone, continue straight on.

    Parameters
    ----------
    points : numpy.ndarray
        ``(n, 2)`` coordinates (exact collinearity is tested, so use the exact values).
    offsets : numpy.ndarray
        ``(n_loops + 1,)`` loop boundaries; loops are cyclic.
    pinned : numpy.ndarray, optional
        ``(n,)`` bool, points never to report.
    """
    pinned = np.zeros(len(points), dtype=bool) if pinned is None else pinned
    x, y = np.ascontiguousarray(points[:, 0]), np.ascontiguousarray(points[:, 1])
    previous, _ = _neighbours(offsets, len(points))
    redundant = (x == x[previous]) & (y == y[previous]) & ~pinned
    # Straightness is judged between the remaining points, or a repeat would hide a straight run.
    rest = np.flatnonzero(~redundant)
    x, y = x[rest], y[rest]
    previous, following = _neighbours(kept_offsets(~redundant, offsets), len(rest))
    dx_in, dy_in = x - x[previous], y - y[previous]
    dx_out, dy_out = x[following] - x, y[following] - y
    straight = (dx_in * dy_out == dy_in * dx_out) & (dx_in * dx_out + dy_in * dy_out > 0)
    redundant[rest[straight & ~pinned[rest]]] = True
    return redundant


def kept_offsets(keep: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Loop boundaries after keeping only the points where ``keep`` is True."""
    kept_before = np.zeros(len(keep) + 1, dtype=np.int64)
    np.cumsum(keep, out=kept_before[1:])
    return kept_before[offsets]


def drop_redundant_points(points: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The loops without their :func:`redundant_points`, as ``(points, offsets)``."""
    keep = ~redundant_points(points, offsets)
    return points[keep], kept_offsets(keep, offsets)


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
    # A loop left with fewer than three points keeps all of them: it never vanishes silently.
    too_few = np.diff(kept_offsets(keep, offsets)) < 3
    keep |= np.repeat(too_few, np.diff(offsets))
    return points[keep], kept_offsets(keep, offsets)


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
