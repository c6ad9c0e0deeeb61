"""Even-odd rasterisation of planar polygons onto voxel centres, vectorised with scanline toggles.

A voxel ``(k, j, i)`` is inside when a ray from its centre ``(i, j)`` towards ``-i`` crosses the
polygons of slice ``k`` an odd number of times, all contours of the slice together (XOR). So nested
contours and keyhole cuts both give holes, whatever the orientation of each loop.

Ties are broken half-open, like a pixel-exact scan converter: an edge crosses row ``j`` when
``min(y) <= j < max(y)`` (a vertex on the row is counted once), and a crossing at ``x`` affects
the voxels whose centre is strictly right of it, ``i > x``. A polygon through voxel centres
therefore covers its area exactly (the square with corners at centres 0 and 2 covers four voxels).
Polygons may have any real coordinates, lie partly or wholly outside the grid, repeat their first
point at the end, or be degenerate (fewer than three points: nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from ..errors import GeometryError

logger = logging.getLogger(__name__)

#: Rows of toggles handled at once: about this many × columns bytes, small enough to stay in cache.
_ROWS_PER_CHUNK = 1024


def rasterize_polygons(polygons_per_slice: Mapping[int, Sequence[ArrayLike]],
                       shape: Sequence[int]) -> np.ndarray:
    """Voxels of a ``(k, j, i)`` grid whose centres lie inside the polygons of their slice.

    Parameters
    ----------
    polygons_per_slice : mapping of int to sequence of array_like
        Slice index ``k`` -> polygons, each ``(n, 2)`` index coordinates ``(i, j)`` (``(n, 3)`` is
        accepted and its third column ignored). Slices outside the grid are skipped with a warning.
    shape : sequence of int
        ``(K, J, I)`` of the output.

    Returns
    -------
    numpy.ndarray
        ``(K, J, I)`` bool mask.

    Raises
    ------
    GeometryError
        If a polygon is not an ``(n, 2)`` or ``(n, 3)`` array of finite numbers.
    """
    points, offsets, slice_k = pack_polygons(polygons_per_slice)
    return rasterize_packed(points, offsets, slice_k, shape)


def rasterize_slice(polygons: Sequence[ArrayLike], shape_ji: Sequence[int]) -> np.ndarray:
    """``(J, I)`` bool mask of one slice; see :func:`rasterize_polygons`."""
    return rasterize_polygons({0: polygons}, (1, int(shape_ji[0]), int(shape_ji[1])))[0]


def pack_polygons(polygons_per_slice: Mapping[int, Sequence[ArrayLike]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flatten polygons into ``(points, offsets, slice_k)`` as used by :func:`rasterize_packed`."""
    arrays: list[np.ndarray] = []
    slices: list[int] = []
    for k, polygons in polygons_per_slice.items():
        for polygon in polygons:
            points = _polygon_points(polygon, k)
            if len(points) >= 3:
                arrays.append(points)
                slices.append(int(k))
    lengths = np.array([len(a) for a in arrays], dtype=np.int64)
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    points = np.concatenate(arrays) if arrays else np.zeros((0, 2))
    return points, offsets, np.array(slices, dtype=np.int64)


def rasterize_packed(points_ij: np.ndarray, offsets: np.ndarray, slice_k: np.ndarray,
                     shape: Sequence[int]) -> np.ndarray:
    """Rasterise packed loops (e.g. a :class:`.contours.LoopSet`'s arrays) into a ``(K, J, I)`` mask."""
    n_slices, n_rows, n_columns = (int(n) for n in shape)
    mask = np.zeros((n_slices, n_rows, n_columns), dtype=bool)
    on_grid = (slice_k >= 0) & (slice_k < n_slices)
    if not on_grid.all():
        logger.warning("Skipped %d contours on slices outside the %d-slice grid", int((~on_grid).sum()), n_slices)
    row_key, column = _crossings(points_ij, offsets, slice_k, on_grid, n_rows, n_columns)
    _fill_rows(mask.reshape(n_slices * n_rows, n_columns), row_key, column)
    return mask


def rasterize_packed_block(points_ij: np.ndarray, offsets: np.ndarray, slice_k: np.ndarray,
                           shape: Sequence[int]) -> tuple[np.ndarray, tuple[int, int, int]]:
    """As :func:`rasterize_packed`, but only the block of rows and columns the loops reach, and its offset.

    The same voxels as the full-grid mask (crossings are found on the whole grid, then shifted by
    whole voxels), without allocating the grid: ``paste(*result, shape)`` equals the full mask.
    An empty result is a (0, 0, 0) block at (0, 0, 0).
    """
    n_slices, n_rows, n_columns = (int(n) for n in shape)
    on_grid = (slice_k >= 0) & (slice_k < n_slices)
    if not on_grid.all():
        logger.warning("Skipped %d contours on slices outside the %d-slice grid", int((~on_grid).sum()), n_slices)
    row_key, column = _crossings(points_ij, offsets, slice_k, on_grid, n_rows, n_columns)
    if len(row_key) == 0:
        return np.zeros((0, 0, 0), dtype=bool), (0, 0, 0)
    k, j = np.divmod(row_key, n_rows)
    _, counts = np.unique(row_key, return_counts=True)
    # A row with an odd number of toggles is filled to the grid's edge (its closing crossing lies beyond it).
    i_end = n_columns if (counts % 2).any() else int(column.max())
    lo = (int(k.min()), int(j.min()), int(column.min()))
    size = (int(k.max()) + 1 - lo[0], int(j.max()) + 1 - lo[1], max(i_end - lo[2], 0))
    block = np.zeros(size, dtype=bool)
    keep = column < i_end  # a toggle at the block's end column changes nothing inside it
    if size[2]:
        _fill_rows(block.reshape(size[0] * size[1], size[2]), ((k - lo[0]) * size[1] + (j - lo[1]))[keep],
                   column[keep] - lo[2])
    return block, lo


def _polygon_points(polygon: ArrayLike, k: int) -> np.ndarray:
    points = np.asarray(polygon, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] not in (2, 3):
        raise GeometryError(f"A contour on slice {k} has shape {points.shape}, not (n, 2).",
                            hint="Give each polygon as an (n, 2) array of (i, j) index coordinates.")
    points = points[:, :2]
    if not np.isfinite(points).all():
        raise GeometryError(f"A contour on slice {k} has non-finite coordinates.",
                            hint="Drop or repair contours with NaN or infinite points before rasterising.")
    # A repeated closing point would add a zero-length edge; drop it (it changes nothing else).
    if len(points) > 1 and np.array_equal(points[0], points[-1]):
        points = points[:-1]
    return points


def _crossings(points: np.ndarray, offsets: np.ndarray, slice_k: np.ndarray, on_grid: np.ndarray,
               n_rows: int, n_columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Row key (``k * J + j``) and first toggled column of every edge crossing a row centre."""
    lengths = np.diff(offsets)
    index = np.arange(len(points))
    following = index + 1
    following[offsets[1:][lengths > 0] - 1] = offsets[:-1][lengths > 0]
    edge_k = np.repeat(slice_k, lengths)
    # Orient every edge upwards so an edge and its reverse (a keyhole cut) give bit-identical x.
    y0, y1 = points[:, 1], points[following, 1]
    low = np.where(y0 <= y1, index, following)
    high = np.where(y0 <= y1, following, index)
    first_row = np.clip(np.ceil(points[low, 1]), 0, n_rows).astype(np.int64)
    end_row = np.clip(np.ceil(points[high, 1]), 0, n_rows).astype(np.int64)
    count = np.where(np.repeat(on_grid, lengths), np.maximum(end_row - first_row, 0), 0)
    edge = np.repeat(np.arange(len(points)), count)
    row = first_row[edge] + np.arange(len(edge)) - np.repeat(np.cumsum(count) - count, count)
    xa, ya, xb, yb = points[low[edge], 0], points[low[edge], 1], points[high[edge], 0], points[high[edge], 1]
    # Multiplying before dividing keeps crossings of integer-vertex polygons exact, so ties at
    # voxel centres follow the documented rule instead of rounding noise.
    x = xa + ((row - ya) * (xb - xa)) / (yb - ya)
    column = np.clip(np.floor(x) + 1, 0, n_columns).astype(np.int64)
    keep = column < n_columns
    return (edge_k[edge] * n_rows + row)[keep], column[keep]


def _fill_rows(rows_out: np.ndarray, row_key: np.ndarray, column: np.ndarray) -> None:
    """XOR-accumulate toggles along each row into ``rows_out`` (a ``(K * J, I)`` view)."""
    if len(row_key) == 0:
        return
    n_columns = rows_out.shape[1]
    order = np.argsort(row_key)
    row_key, column = row_key[order], column[order]
    new_row = np.r_[True, row_key[1:] != row_key[:-1]]
    first = np.r_[np.flatnonzero(new_row), len(row_key)]
    rows = row_key[first[:-1]]
    compact = np.cumsum(new_row) - 1
    for start in range(0, len(rows), _ROWS_PER_CHUNK):
        stop = min(start + _ROWS_PER_CHUNK, len(rows))
        crossing = slice(first[start], first[stop])
        toggles = np.zeros((stop - start, n_columns), dtype=np.uint8)
        np.bitwise_xor.at(toggles.reshape(-1), (compact[crossing] - start) * n_columns + column[crossing], 1)
        rows_out[rows[start:stop]] = _prefix_xor(toggles).view(bool)


def _prefix_xor(toggles: np.ndarray) -> np.ndarray:
    """Running XOR along each row, in place, by doubling: log2(columns) whole-array passes."""
    # numpy's cumsum along the last axis runs element by element; shifted XORs are vectorised.
    shift = 1
    while shift < toggles.shape[1]:
        toggles[:, shift:] ^= toggles[:, :-shift].copy()
        shift *= 2
    return toggles
