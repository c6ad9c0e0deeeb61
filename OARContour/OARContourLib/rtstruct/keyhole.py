"""Keyhole encoding: each outer loop and its holes become one polygon joined by zero-width cuts.

Every hole is spliced into the loop its bridge reaches (see :mod:`.bridges`): the polygon runs along
that loop to ``w``, right along the bridge to the hole's first corner ``v``, around the hole, back to
``v`` and ``w``, and on. Bridges are horizontal, lie on pixel-grid lines between foreground pixels and
are traversed once each way, so they cross no loop and cancel in any even-odd rasterisation; holes of
holes' components (islands) stay separate polygons.

All splices are done at once on the successor permutation of the corner graph: a splice swaps the
successors of two points (merging two cycles into one) with the bridge's return points inserted.
Splices that share a point wait for a later round, so the result equals splicing one by one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .bridges import BridgeKind, HoleBridges
from .corners import CornerGraph
from .cycles import order_cycles
from .simplify import kept_offsets, redundant_points

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeyholeLoops:
    """Merged polygons as vertex keys: loop ``m`` is ``keys[offsets[m]:offsets[m + 1]]``."""

    keys: np.ndarray
    offsets: np.ndarray


@dataclass(frozen=True)
class _Slots:
    """Points of the merged polygons: the graph's nodes, then the points the bridges add."""

    keys: np.ndarray
    succ: np.ndarray
    entry: np.ndarray
    """Per hole, the point after which it is spliced in (for SADDLE: the node it is spliced before)."""
    back: np.ndarray
    """Per hole, the first of its two return points (v, then w), or -1 for SADDLE."""
    bridge_end: np.ndarray
    """Per point, whether it is the end of a bridge (``v`` or ``w``)."""


def merge_holes(graph: CornerGraph, bridges: HoleBridges, keep_bridge_ends: bool = False) -> KeyholeLoops:
    """Splice every hole into its component's outer loop; one polygon per outer loop.

    Points on a straight line are dropped, except, with ``keep_bridge_ends``, the ends of the cuts:
    each then occurs twice in its polygon, which is what :func:`.simplify.simplify_packed` pins.
    """
    if len(bridges.hole_loops) == 0:
        # Nothing to splice: the loops are the polygons, already corners only.
        loops = order_cycles(graph.succ, graph.labels)
        return KeyholeLoops(keys=graph.corner_keys[graph.node_corner[loops.order]], offsets=loops.offsets)
    slots = _make_slots(graph, bridges)
    hole_start = graph.labels.first[bridges.hole_loops]
    _splice(slots.succ, hole_start, slots.entry, slots.back, bridges.kind == BridgeKind.SADDLE)
    merged = order_cycles(slots.succ)
    keys = slots.keys[merged.order]
    row, column = np.divmod(keys, graph.grid[2])
    pinned = slots.bridge_end[merged.order] if keep_bridge_ends else None
    keep = ~redundant_points(np.stack([row, column], axis=1), merged.offsets, pinned)
    offsets = kept_offsets(keep, merged.offsets)
    logger.debug("Keyhole: %d holes spliced into %d polygons", len(hole_start), len(offsets) - 1)
    return KeyholeLoops(keys=keys[keep], offsets=offsets)


def _make_slots(graph: CornerGraph, bridges: HoleBridges) -> _Slots:
    """Add the points the bridges need: where they leave a loop, and ``v``, ``w`` for each return.

    A bridge leaves from a new point ``w`` inserted into the loop it reaches: into the vertical run
    for STRAIGHT, and (with a second copy behind it) right after the corner node for CORNER, so
    that no two splices ever swap the successor of the same point.
    """
    n_nodes = len(graph.succ)
    bridged = np.flatnonzero(bridges.kind != BridgeKind.SADDLE)
    doubled = np.repeat(bridged, np.where(bridges.kind[bridged] == BridgeKind.CORNER, 2, 1))
    inserted = n_nodes + np.arange(len(doubled))
    first_copy = np.ones(len(doubled), dtype=bool)
    first_copy[1:] = doubled[1:] != doubled[:-1]
    entry = bridges.anchor.copy()
    entry[doubled[first_copy]] = inserted[first_copy]
    back = np.full(len(bridges.kind), -1, dtype=np.int64)
    back[bridged] = n_nodes + len(doubled) + 2 * np.arange(len(bridged))
    returns = np.stack([bridges.start_key[bridged], bridges.end_key[bridged]], axis=1).reshape(-1)
    keys = np.concatenate([graph.corner_keys[graph.node_corner], bridges.end_key[doubled], returns])
    succ = np.concatenate([graph.succ, np.zeros(len(keys) - n_nodes, dtype=graph.succ.dtype)])
    _insert_after(succ, bridges.anchor[doubled], inserted, bridges.end_key[doubled])
    bridge_end = np.zeros(len(keys), dtype=bool)
    bridge_end[n_nodes + len(doubled):] = True
    bridge_end[entry[bridged]] = True
    bridge_end[graph.labels.first[bridges.hole_loops[bridged]]] = True
    return _Slots(keys=keys, succ=succ, entry=entry, back=back, bridge_end=bridge_end)


def _insert_after(succ: np.ndarray, run_start: np.ndarray, slot: np.ndarray, key: np.ndarray) -> None:
    """Insert point slots after nodes, in order along the node's outgoing run (in place)."""
    if len(slot) == 0:
        return
    # Runs reached from the right go up (-j): nearer points have larger keys; equal keys keep their
    # order (lexsort is stable), which puts a corner's two copies first, in slot order.
    order = np.lexsort((-key, run_start))
    run_start, slot = run_start[order], slot[order]
    new_run = np.r_[True, run_start[1:] != run_start[:-1]]
    run_end = np.r_[new_run[1:], True]
    following = np.empty_like(slot)
    following[:-1] = slot[1:]
    following[run_end] = succ[run_start[run_end]]
    succ[slot] = following
    succ[run_start[new_run]] = slot[new_run]


def _splice(succ: np.ndarray, hole_start: np.ndarray, entry: np.ndarray, back_v: np.ndarray,
            at_saddle: np.ndarray) -> None:
    """Splice each hole after its entry point, in rounds of splices that share no point (in place)."""
    pred = np.empty_like(succ)
    pred[succ] = np.arange(len(succ))
    pending = np.arange(len(hole_start))
    while len(pending):
        # At a saddle the hole joins before the other loop's node there, wherever that now comes from.
        after = np.where(at_saddle[pending], pred[entry[pending]], entry[pending])
        before_hole = pred[hole_start[pending]]
        owner = np.full(len(succ), len(pending))
        np.minimum.at(owner, np.concatenate([after, before_hole]), np.tile(np.arange(len(pending)), 2))
        ready = (owner[after] == np.arange(len(pending))) & (owner[before_hole] == np.arange(len(pending)))
        _apply(succ, pred, hole_start[pending[ready]], after[ready], before_hole[ready], back_v[pending[ready]])
        pending = pending[~ready]


def _apply(succ: np.ndarray, pred: np.ndarray, hole_start: np.ndarray, after: np.ndarray, before_hole: np.ndarray,
           back_v: np.ndarray) -> None:
    """Swap successors of ``after`` and ``before_hole``; bridged holes return through v and w."""
    resume = succ[after].copy()
    succ[after] = hole_start
    pred[hole_start] = after
    direct = back_v < 0
    succ[before_hole[direct]] = resume[direct]
    pred[resume[direct]] = before_hole[direct]
    v, w, last, resume = back_v[~direct], back_v[~direct] + 1, before_hole[~direct], resume[~direct]
    succ[last], succ[v], succ[w] = v, w, resume
    pred[v], pred[w], pred[resume] = last, v, w
