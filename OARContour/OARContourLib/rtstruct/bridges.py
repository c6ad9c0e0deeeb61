"""Where each hole loop meets the boundary of its component: hole parents and keyhole bridges.

A hole loop starts at its top-left corner ``v`` (see :mod:`.corners`). Seen from ``v``, the pixels
on both sides of the grid line running left are foreground, so walking left along that line from
``v`` stays inside the hole's own 4-connected component until the first vertex that touches a
boundary, ``w``. That bridge ``v -> w`` crosses no loop, and ``w`` lies on a loop of the same
component: its outer loop, or another hole whose start is earlier in raster order. Following those
links from hole to hole therefore always ends at the component's outer loop, the hole's parent.

When ``v`` is a saddle corner (the hole touches another loop of its component diagonally at its
start) the bridge has zero length: the hole joins the other loop at ``v`` itself.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from .corners import CornerGraph

# Codes of the vertex w a bridge reaches (its two right-hand pixels are foreground): 10 is the
# middle of a vertical edge run, 11 and 14 are concave corners.
_STRAIGHT_VERTICAL = 10


class BridgeKind(enum.IntEnum):
    """How a hole is joined to the loop it touches."""

    SADDLE = 0
    """Zero length: the hole starts on a saddle corner shared with the other loop."""
    CORNER = 1
    """The bridge ends on a corner node of the other loop."""
    STRAIGHT = 2
    """The bridge ends inside a vertical edge run of the other loop (a point that is no node)."""


@dataclass(frozen=True)
class HoleBridges:
    """One bridge per hole loop, and the resulting parent of every loop.

    Attributes
    ----------
    hole_loops : numpy.ndarray
        ``(n_holes,)`` loop index of each hole, ascending.
    kind : numpy.ndarray
        ``(n_holes,)`` :class:`BridgeKind` values.
    anchor : numpy.ndarray
        ``(n_holes,)`` node: the other node of the saddle (SADDLE), the node at ``w`` (CORNER), or the
        first node of the vertical run through ``w`` (STRAIGHT).
    start_key, end_key : numpy.ndarray
        ``(n_holes,)`` vertex keys of ``v`` (the hole's first corner) and ``w``.
    parent : numpy.ndarray
        ``(n_loops,)`` the enclosing outer loop of each hole; -1 for outer loops.
    """

    hole_loops: np.ndarray
    kind: np.ndarray
    anchor: np.ndarray
    start_key: np.ndarray
    end_key: np.ndarray
    parent: np.ndarray


def find_bridges(graph: CornerGraph) -> HoleBridges:
    """Bridge every hole loop of ``graph`` to the loop it meets on its left."""
    starts = graph.labels.first
    is_hole = graph.node_direction[starts] == 1
    hole_loops = np.flatnonzero(is_hole)
    start_nodes = starts[hole_loops]
    start_key = graph.corner_keys[graph.node_corner[start_nodes]]
    kind = np.full(len(hole_loops), BridgeKind.CORNER, dtype=np.int8)
    # A saddle's nodes are (+j, -j) for code 6; the hole leaves along +j, the other loop along -j.
    anchor = start_nodes + 1
    end_key = start_key.copy()
    at_saddle = graph.corner_codes[graph.node_corner[start_nodes]] == 6
    kind[at_saddle] = BridgeKind.SADDLE
    walk = ~at_saddle
    anchor[walk], end_key[walk], straight = _walk_left(graph, start_key[walk])
    kind[np.flatnonzero(walk)[straight]] = BridgeKind.STRAIGHT
    touched = graph.labels.cycle_of[anchor]
    parent = _resolve_parents(is_hole, hole_loops, touched)
    return HoleBridges(hole_loops, kind, anchor, start_key, end_key, parent)


def _walk_left(graph: CornerGraph, start_key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For hole starts ``v``: the anchor node, the key of ``w``, and whether ``w`` is a straight point."""
    # Every vertex between w and v is inside the foreground, so w is v's predecessor among the
    # boundary vertices; it is in the same row because the padding column is always background.
    before = np.searchsorted(graph.boundary_keys, start_key) - 1
    end_key = graph.boundary_keys[before]
    straight = graph.boundary_codes[before] == _STRAIGHT_VERTICAL
    anchor = np.empty(len(start_key), dtype=np.int64)
    corner = np.searchsorted(graph.corner_keys, end_key[~straight])
    anchor[~straight] = graph.first_node[corner]
    # A straight w is inside a run going up (-j); the run starts at the next corner down the column,
    # which is a corner of code 6 (whose -j node is its second) or has -j as its only node.
    below = graph.column_order[np.searchsorted(graph.column_keys, graph.column_key(end_key[straight]))]
    anchor[straight] = graph.first_node[below] + (graph.corner_codes[below] == 6)
    return anchor, end_key, straight


def _resolve_parents(is_hole: np.ndarray, hole_loops: np.ndarray, touched: np.ndarray) -> np.ndarray:
    """Follow hole -> touched loop links to an outer loop; -1 for outer loops themselves."""
    link = np.arange(len(is_hole))
    link[hole_loops] = touched
    # Links point to loops that start earlier, so they form a forest rooted at outer loops.
    while True:
        further = link[link]
        if np.array_equal(further, link):
            break
        link = further
    return np.where(is_hole, link, -1)
