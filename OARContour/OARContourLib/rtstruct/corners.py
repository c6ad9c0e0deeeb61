"""The corner graph of a mask: every turn of every voxel-boundary loop, and which turn comes next.

Geometry. Pixel ``(j, i)`` of slice ``k`` is the unit square centred on the index point ``(i, j)``;
its corners lie at half-integer coordinates. Corner ``(cj, ci)`` (``0 <= cj <= J``, ``0 <= ci <= I``)
is the index point ``(i, j) = (ci - 0.5, cj - 0.5)``, the top-left corner of pixel ``(cj, ci)``.

Directions are numbered ``0 = +i, 1 = +j, 2 = -i, 3 = -j``: each is the previous one turned by +90°
in the ``(i, j)`` plane, so a left turn adds 1 (mod 4). Boundary edges are directed with the
foreground on their left, which makes outer loops counter-clockwise in the ``(i, j)`` plane read as a
mathematical x-y plane (positive shoelace area; clockwise on a screen whose j axis points down) and
hole loops clockwise.

Nodes. A *node* is a corner where a loop turns, together with the direction it leaves in. Straight
points (the middle of an edge run) are never built, so loops come out with corners only. A *saddle*
corner (two pixels touching only diagonally) carries two nodes. At a saddle the loop turns left by
default, which keeps the two pixels apart (4-connected foreground); where both diagonal pixels belong
to the same 4-connected component that default would make one loop touch itself, so there the turns
are flipped to the right, which splits the loop into an outer and a hole loop meeting at the corner.

Keys. Vertices are keyed by their flat index in a ``(K, Jc + 1, W)`` grid whose column is ``ci + 1``;
``W`` is a multiple of 8 so that the boundary search can run on 64-bit words (8 pixels at a time).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cycles import CycleLabels, label_cycles

#: Codes of the 2x2 pixels around a corner: bit 0 NW, bit 1 NE, bit 2 SW, bit 3 SE in the foreground.
SADDLE_CODES = (6, 9)
_STRAIGHT_CODES = (3, 5, 10, 12)
#: Size of the padded slab of slices searched for boundaries at once.
_SLAB_BYTES = 1 << 19


def _direction_tables() -> tuple[np.ndarray, np.ndarray]:
    """Per code: the first direction leaving the corner (-1 if none), and whether it is a turn."""
    first_direction = np.full(16, -1, dtype=np.int8)
    for code in range(16):
        nw, ne, sw, se = ((code >> bit) & 1 == 1 for bit in range(4))
        # The edge leaving in direction d has the foreground on its left (see the module docstring).
        leaving = (se and not ne, sw and not se, nw and not sw, ne and not nw)
        if any(leaving):
            first_direction[code] = leaving.index(True)
    is_corner = (first_direction >= 0) & ~np.isin(np.arange(16), _STRAIGHT_CODES)
    return first_direction, is_corner


FIRST_DIRECTION, IS_CORNER = _direction_tables()


@dataclass(frozen=True)
class CornerGraph:
    """Corner nodes of one mask and their successor along the boundary loops.

    Attributes
    ----------
    origin_kji : tuple of int
        Full-grid index of the cropped block's first voxel.
    grid : tuple of int
        ``(K, Jc + 1, W)``, the shape of the vertex key grid.
    boundary_keys, boundary_codes : numpy.ndarray
        Sorted keys and codes of every vertex touched by a boundary edge, straight points included.
    corner_keys, corner_codes : numpy.ndarray
        The subset of those that are turns (saddles included).
    first_node : numpy.ndarray
        Per corner, its first node (a saddle's second node follows it).
    node_corner, node_direction : numpy.ndarray
        Per node, its corner and the direction it leaves in.
    column_order, column_keys : numpy.ndarray
        Corners sorted by (slice, column, row), and their keys in that order.
    succ : numpy.ndarray
        Per node, the next node along its loop (a permutation).
    labels : CycleLabels
        The loops of ``succ``: loop ``m`` starts at node ``labels.first[m]``, its top-left corner.
    """

    origin_kji: tuple[int, int, int]
    grid: tuple[int, int, int]
    boundary_keys: np.ndarray
    boundary_codes: np.ndarray
    corner_keys: np.ndarray
    corner_codes: np.ndarray
    first_node: np.ndarray
    node_corner: np.ndarray
    node_direction: np.ndarray
    column_order: np.ndarray
    column_keys: np.ndarray
    succ: np.ndarray
    labels: CycleLabels

    def column_key(self, keys: np.ndarray) -> np.ndarray:
        """Keys of the (slice, column, row) order for vertex keys of the (slice, row, column) order."""
        return _column_keys(self.grid, keys)

    def vertex_kji(self, keys: np.ndarray) -> np.ndarray:
        """``(n, 3)`` float64 full-grid index coordinates ``(k, j, i)`` of vertex keys."""
        _, rows, columns = self.grid
        slab, column = np.divmod(keys, columns)
        k, row = np.divmod(slab, rows)
        k0, j0, i0 = self.origin_kji
        # Column c of the key grid is corner ci = c - 1, at i = ci - 0.5; corner row cj is at j = cj - 0.5.
        return np.stack([k + float(k0), row + (j0 - 0.5), column + (i0 - 1.5)], axis=1)


def build_corner_graph(mask: np.ndarray, origin_kji: tuple[int, int, int] = (0, 0, 0)) -> CornerGraph | None:
    """Trace the voxel boundaries of a ``(k, j, i)`` bool mask into a :class:`CornerGraph`.

    Returns None when the mask is empty.
    """
    cropped = _crop(mask)
    if cropped is None:
        return None
    offset, block = cropped
    origin = (origin_kji[0] + offset[0], origin_kji[1] + offset[1], origin_kji[2] + offset[2])
    grid = (block.shape[0], block.shape[1] + 1, -(-(block.shape[2] + 2) // 8) * 8)
    boundary_keys, boundary_codes = _boundary_vertices(block, grid[2])
    is_corner = IS_CORNER[boundary_codes]
    corner_keys, corner_codes = boundary_keys[is_corner], boundary_codes[is_corner]
    is_saddle = np.isin(corner_codes, SADDLE_CODES)
    counts = 1 + is_saddle.astype(np.int64)
    first_node = np.cumsum(counts) - counts
    node_corner = np.repeat(np.arange(len(corner_keys)), counts)
    # A saddle's second node leaves opposite to its first (codes 9: +i and -i; 6: +j and -j).
    second = np.arange(len(node_corner)) - first_node[node_corner]
    node_direction = (FIRST_DIRECTION[corner_codes][node_corner] + 2 * second).astype(np.int8)
    column_keys = _column_keys(grid, corner_keys)
    column_order = np.argsort(column_keys)
    succ = _left_turn_successors(node_corner, node_direction, corner_codes, first_node, column_order)
    labels = _split_self_touching_loops(succ, first_node[is_saddle])
    return CornerGraph(origin, grid, boundary_keys, boundary_codes, corner_keys, corner_codes, first_node,
                       node_corner, node_direction, column_order, column_keys[column_order], succ, labels)


def _crop(mask: np.ndarray) -> tuple[tuple[int, int, int], np.ndarray] | None:
    """The offset and view of the mask's bounding block; None if the mask is empty."""
    n_slices = mask.shape[0]
    slices = np.flatnonzero(mask.reshape(n_slices, -1).any(axis=1))
    if len(slices) == 0:
        return None
    k0, k1 = int(slices[0]), int(slices[-1]) + 1
    footprint = np.logical_or.reduce(mask[k0:k1], axis=0)
    rows = np.flatnonzero(footprint.any(axis=1))
    columns = np.flatnonzero(footprint.any(axis=0))
    j0, j1, i0, i1 = int(rows[0]), int(rows[-1]) + 1, int(columns[0]), int(columns[-1]) + 1
    return (k0, j0, i0), mask[k0:k1, j0:j1, i0:i1]


def _boundary_vertices(block: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted keys and codes of the vertices whose four pixels are not all equal."""
    n_slices, n_rows, n_columns = block.shape
    # Slabs of a few MiB stay in cache and in the allocator's reusable heap; one big padded copy
    # of a body-sized block would cost more in page faults than in arithmetic.
    slab = max(1, _SLAB_BYTES // ((n_rows + 2) * width))
    padded = np.zeros((min(slab, n_slices), n_rows + 2, width), dtype=bool)
    keys, codes = [], []
    for k0 in range(0, n_slices, slab):
        part = padded[:min(slab, n_slices - k0)]
        part[:, 1:-1, 1:n_columns + 1] = block[k0:k0 + len(part)]
        part_keys = _boundary_keys(part)
        codes.append(_codes_at(part, part_keys))
        keys.append(part_keys + k0 * (n_rows + 1) * width)
    return np.concatenate(keys), np.concatenate(codes)


def _boundary_keys(padded: np.ndarray) -> np.ndarray:
    """Sorted keys of the vertices of ``padded`` (a background-framed block) on a boundary."""
    words = padded.view("<u8")
    # Byte c of a little-endian word is pixel column c: shifting left by 8 bits (plus the top byte
    # of the previous word) lines pixel c - 1 up with pixel c, so 8 pixels compare in one operation.
    horizontal = words << np.uint64(8)
    horizontal[:, :, 1:] |= words[:, :, :-1] >> np.uint64(56)
    horizontal ^= words
    # Vertex (cj, c) sees pixel rows cj and cj + 1 of `padded`, columns c - 1 and c.
    boundary = words[:, :-1] ^ words[:, 1:]
    boundary |= horizontal[:, :-1]
    boundary |= horizontal[:, 1:]
    # Every byte is still 0 or 1, so the words read as bool bytes are the per-vertex answer (the
    # cast only acts on big-endian machines, where results come back in native byte order).
    return np.flatnonzero(boundary.astype("<u8", copy=False).reshape(-1).view(bool))


def _codes_at(padded: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The 2x2 pixel code (bit 0 NW, 1 NE, 2 SW, 3 SE) of each vertex key of ``padded``."""
    _, rows, width = padded.shape
    flat = padded.reshape(-1).view(np.uint8)
    # The key grid has one row fewer per slice than `padded`, hence the per-slice shift.
    north_east = keys + (keys // ((rows - 1) * width)) * width
    south_east = north_east + width
    code = flat[north_east - 1] | flat[north_east] << 1 | flat[south_east - 1] << 2 | flat[south_east] << 3
    return code.astype(np.uint8)


def _column_keys(grid: tuple[int, int, int], keys: np.ndarray) -> np.ndarray:
    _, rows, columns = grid
    slab, column = np.divmod(keys, columns)
    k, row = np.divmod(slab, rows)
    return (k * columns + column) * rows + row


def _left_turn_successors(corner: np.ndarray, node_direction: np.ndarray, corner_codes: np.ndarray,
                          first_node: np.ndarray, column_order: np.ndarray) -> np.ndarray:
    """Each node's successor, turning left at every saddle."""
    direction = node_direction.astype(np.int64)
    column_rank = np.empty_like(column_order)
    column_rank[column_order] = np.arange(len(column_order))
    # A horizontal run ends at the next (or previous) corner in row order, a vertical one at the next
    # (or previous) corner in column order: the straight points in between are not corners.
    target = corner + (1 - direction)
    vertical = (direction & 1) == 1
    target[vertical] = column_order[column_rank[corner[vertical]] + (2 - direction[vertical])]
    target_codes = corner_codes[target]
    wanted = (direction + 1) & 3
    second = np.isin(target_codes, SADDLE_CODES) & (FIRST_DIRECTION[target_codes] != wanted)
    return first_node[target] + second


def _split_self_touching_loops(succ: np.ndarray, saddle_nodes: np.ndarray) -> CycleLabels:
    """Flip to a right turn every saddle whose two nodes lie on the same loop (in place); label loops."""
    labels = label_cycles(succ)
    loop = labels.cycle_of
    same = saddle_nodes[loop[saddle_nodes] == loop[saddle_nodes + 1]]
    if len(same) == 0:
        return labels
    pred = np.empty_like(succ)
    pred[succ] = np.arange(len(succ))
    first_in, second_in = pred[same], pred[same + 1]
    # Both diagonal pixels are in one 4-connected component, so the background pixels are in
    # different regions (Jordan): turning right there cannot make another loop touch itself.
    succ[first_in], succ[second_in] = same + 1, same
    return label_cycles(succ)
