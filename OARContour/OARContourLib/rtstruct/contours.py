"""Exact voxel-boundary contours of a mask, per slice, with holes nested or keyholed.

Coordinates are voxel *index* coordinates ``(i, j)`` (``i`` = column, ``j`` = row) on slice ``k``
of a ``(k, j, i)`` mask: voxel centres are integers and contour points are the pixel-edge corners
between them, at half-integers. A single voxel at ``(j=3, i=5)`` gives the square
``(4.5, 2.5), (5.5, 2.5), (5.5, 3.5), (4.5, 3.5)``.

Loops are closed (first point not repeated), hold only corners (no repeated or collinear points)
and are simple: pixels touching only at a corner belong to different loops unless they are in the
same 4-connected component, in which case the loop is split there into an outer loop and a hole
loop that meet at that corner. Outer loops run counter-clockwise in the ``(i, j)`` plane read as an
x-y plane (positive shoelace area; on a screen with ``j`` pointing down they look clockwise), holes
clockwise; every loop starts at its top-left corner (smallest ``j``, then smallest ``i``). Each
outer loop is the boundary of one 4-connected component of the slice; an island inside a hole is
an outer loop of its own.

Even-odd rasterisation of voxel centres (:func:`.rasterize.rasterize_polygons`) gives back the mask
exactly for both hole encodings.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import GeometryError
from .bridges import find_bridges
from .corners import build_corner_graph
from .cycles import order_cycles
from .keyhole import merge_holes
from .simplify import drop_redundant_points, simplify_packed

logger = logging.getLogger(__name__)


class HoleEncoding(str, enum.Enum):
    """How holes are written (DICOM PS3.3 C.8.8.6.3); the values are those of the TPS profiles."""

    KEYHOLE = "keyhole"
    """One polygon per outer loop, holes joined to it by zero-width cuts."""
    NESTED = "nested"
    """Outer and hole loops as separate contours, for readers that apply even-odd (XOR)."""


@dataclass(frozen=True)
class LoopSet:
    """Closed polygons of a whole mask, packed into flat arrays.

    Attributes
    ----------
    points_ij : numpy.ndarray
        ``(n_points, 2)`` float64 index coordinates ``(i, j)``; loops one after the other.
    offsets : numpy.ndarray
        ``(n_loops + 1,)`` int64; loop ``m`` is ``points_ij[offsets[m]:offsets[m + 1]]``.
    slice_k : numpy.ndarray
        ``(n_loops,)`` int64 slice index of each loop, non-decreasing.
    parent : numpy.ndarray
        ``(n_loops,)`` int64: for a hole, the index of its enclosing outer loop; -1 for outer loops
        and for keyhole polygons.
    """

    points_ij: np.ndarray
    offsets: np.ndarray
    slice_k: np.ndarray
    parent: np.ndarray

    @property
    def n_loops(self) -> int:
        """Number of loops."""
        return len(self.slice_k)

    @property
    def is_hole(self) -> np.ndarray:
        """``(n_loops,)`` bool, True for hole loops."""
        return self.parent >= 0

    def loop(self, index: int) -> np.ndarray:
        """The ``(n, 2)`` points of one loop (a view)."""
        return self.points_ij[self.offsets[index]:self.offsets[index + 1]]

    def loops(self) -> list[np.ndarray]:
        """All loops as ``(n, 2)`` views, in order."""
        return np.split(self.points_ij, self.offsets[1:-1]) if self.n_loops else []

    def per_slice(self) -> dict[int, list[np.ndarray]]:
        """Loops grouped by slice index, the input format of :func:`.rasterize.rasterize_polygons`."""
        grouped: dict[int, list[np.ndarray]] = {}
        for k, points in zip(self.slice_k.tolist(), self.loops()):
            grouped.setdefault(k, []).append(points)
        return grouped


@dataclass(frozen=True)
class SlicePolygons:
    """Outer and hole loops of one slice.

    Attributes
    ----------
    k : int
        Slice index.
    outers, holes : tuple of numpy.ndarray
        ``(n, 2)`` index coordinates ``(i, j)`` of each loop.
    hole_parent : tuple of int
        For each hole, the index in ``outers`` of the loop enclosing it.
    """

    k: int
    outers: tuple[np.ndarray, ...]
    holes: tuple[np.ndarray, ...]
    hole_parent: tuple[int, ...]

    def nested(self) -> list[np.ndarray]:
        """The NESTED encoding: each outer loop followed by its holes."""
        contours: list[np.ndarray] = []
        for index, outer in enumerate(self.outers):
            contours.append(outer)
            contours.extend(hole for hole, parent in zip(self.holes, self.hole_parent) if parent == index)
        return contours


def trace_loops(mask: np.ndarray, hole_encoding: HoleEncoding | str = HoleEncoding.NESTED,
                origin_kji: Sequence[int] = (0, 0, 0), simplify_tolerance: float | None = None) -> LoopSet:
    """Trace the voxel boundaries of every slice of a mask.

    Parameters
    ----------
    mask : numpy.ndarray
        ``(k, j, i)`` array; nonzero voxels are inside. A bool array avoids a conversion copy.
    hole_encoding : HoleEncoding or str
        NESTED returns outer and hole loops (with ``parent``); KEYHOLE returns one polygon per outer
        loop with its holes spliced in.
    origin_kji : sequence of int
        Full-grid index of ``mask[0, 0, 0]``, so that a cropped block (for instance from
        ``scipy.ndimage.find_objects`` on a label map) yields full-grid coordinates.
    simplify_tolerance : float, optional
        Douglas–Peucker tolerance in voxels (at most 0.5 keeps loops from crossing); None keeps the
        exact voxel boundary. Keyhole cuts stay exact either way.

    Returns
    -------
    LoopSet

    Raises
    ------
    GeometryError
        If ``mask`` is not three-dimensional or the tolerance is negative.
    ValueError
        If ``hole_encoding`` is not a :class:`HoleEncoding` value.
    """
    encoding = HoleEncoding(hole_encoding)
    mask = _as_bool_volume(mask)
    graph = build_corner_graph(mask, (int(origin_kji[0]), int(origin_kji[1]), int(origin_kji[2])))
    if graph is None:
        return _empty_loop_set()
    bridges = find_bridges(graph)
    if encoding is HoleEncoding.KEYHOLE:
        merged = merge_holes(graph, bridges, keep_bridge_ends=simplify_tolerance is not None)
        keys, offsets, parent = merged.keys, merged.offsets, np.full(len(merged.offsets) - 1, -1, dtype=np.int64)
    else:
        cycles = order_cycles(graph.succ, graph.labels)
        keys, offsets, parent = graph.corner_keys[graph.node_corner[cycles.order]], cycles.offsets, bridges.parent
    kji = graph.vertex_kji(keys)
    slice_k = kji[offsets[:-1], 0].astype(np.int64)
    points_ij = np.ascontiguousarray(kji[:, :0:-1])
    if simplify_tolerance is not None:
        points_ij, offsets = simplify_packed(points_ij, offsets, simplify_tolerance)
        points_ij, offsets = drop_redundant_points(points_ij, offsets)
    logger.debug("Traced %d loops with %d points (%s)", len(slice_k), len(points_ij), encoding.value)
    return LoopSet(points_ij=points_ij, offsets=offsets.astype(np.int64), slice_k=slice_k,
                   parent=parent.astype(np.int64))


def mask_to_polygons(mask: np.ndarray, origin_kji: Sequence[int] = (0, 0, 0)) -> list[SlicePolygons]:
    """Outer and hole loops of every slice that has foreground, in slice order.

    See :func:`trace_loops` for the parameters and errors.
    """
    loops = trace_loops(mask, HoleEncoding.NESTED, origin_kji)
    if loops.n_loops == 0:
        return []
    outer_index = np.cumsum(~loops.is_hole) - 1
    all_loops = loops.loops()
    slice_starts = np.flatnonzero(np.diff(loops.slice_k)) + 1
    polygons: list[SlicePolygons] = []
    for first, end in zip(np.r_[0, slice_starts].tolist(), np.r_[slice_starts, loops.n_loops].tolist()):
        holes = [m for m in range(first, end) if loops.parent[m] >= 0]
        # The first loop of a slice starts at its top-left corner, so it is an outer loop.
        parents = outer_index[loops.parent[holes]] - outer_index[first]
        polygons.append(SlicePolygons(
            k=int(loops.slice_k[first]),
            outers=tuple(all_loops[m] for m in range(first, end) if loops.parent[m] < 0),
            holes=tuple(all_loops[m] for m in holes),
            hole_parent=tuple(parents.tolist())))
    return polygons


def _as_bool_volume(mask: np.ndarray) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.ndim != 3:
        raise GeometryError(f"The mask to contour has shape {mask.shape}, not (slices, rows, columns).",
                            hint="Pass a 3-D (k, j, i) array; add a leading axis for a single slice.")
    return np.ascontiguousarray(mask if mask.dtype == bool else mask != 0)


def _empty_loop_set() -> LoopSet:
    empty = np.zeros(0, dtype=np.int64)
    return LoopSet(points_ij=np.zeros((0, 2)), offsets=np.zeros(1, dtype=np.int64), slice_k=empty, parent=empty)
