"""Cycles of a permutation, labelled and ordered without a Python step per element.

The contour tracer and the keyhole merger both describe their polygons as a successor permutation
(``succ[n]`` is the point after point ``n``). Walking it in Python would cost one interpreter step
per point. Instead the cycles are labelled by scipy's connected components (compiled code) and put
in order by pointer doubling: ``log2(longest cycle)`` numpy gathers over all points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components


@dataclass(frozen=True)
class CycleLabels:
    """Which cycle each element is on; cycles are numbered in order of their smallest element.

    Attributes
    ----------
    cycle_of : numpy.ndarray
        ``(n,)`` cycle index of every element.
    first : numpy.ndarray
        ``(n_cycles,)`` smallest element of each cycle, ascending.
    lengths : numpy.ndarray
        ``(n_cycles,)`` number of elements of each cycle.
    """

    cycle_of: np.ndarray
    first: np.ndarray
    lengths: np.ndarray


@dataclass(frozen=True)
class Cycles(CycleLabels):
    """Labelled cycles, each also listed from its smallest element in successor order.

    Attributes
    ----------
    order : numpy.ndarray
        ``(n,)`` all elements, cycle after cycle.
    offsets : numpy.ndarray
        ``(n_cycles + 1,)``; cycle ``m`` is ``order[offsets[m]:offsets[m + 1]]``.
    """

    order: np.ndarray
    offsets: np.ndarray


def label_cycles(succ: np.ndarray) -> CycleLabels:
    """Label the cycles of the permutation ``succ`` (``(n,)`` integers, a permutation of ``0..n-1``)."""
    n = len(succ)
    graph = csr_matrix((np.ones(n, dtype=np.int8), succ, np.arange(n + 1)), shape=(n, n))
    n_cycles, labels = connected_components(graph, directed=True, connection="weak")
    first = np.full(n_cycles, n, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(n))
    # Renumber so that cycle m has the m-th smallest first element (scipy does not promise it).
    rank = np.empty(n_cycles, dtype=np.int64)
    by_first = np.argsort(first)
    rank[by_first] = np.arange(n_cycles)
    cycle_of = rank[labels]
    return CycleLabels(cycle_of=cycle_of, first=first[by_first], lengths=np.bincount(cycle_of, minlength=n_cycles))


def order_cycles(succ: np.ndarray, labels: CycleLabels | None = None) -> Cycles:
    """List every cycle of the permutation ``succ`` from its smallest element, in successor order.

    Parameters
    ----------
    succ : numpy.ndarray
        ``(n,)`` integer permutation of ``0..n-1``.
    labels : CycleLabels, optional
        The result of :func:`label_cycles` for ``succ``, if already known.

    Returns
    -------
    Cycles
    """
    labels = label_cycles(succ) if labels is None else labels
    n = len(succ)
    index = np.arange(n)
    to_end = _distance_to_cycle_end(succ, labels, index)
    offsets = np.zeros(len(labels.lengths) + 1, dtype=np.int64)
    np.cumsum(labels.lengths, out=offsets[1:])
    order = np.empty(n, dtype=np.int64)
    # Position within the cycle = distance from its start = (length - 1) - distance to its end.
    order[offsets[1:][labels.cycle_of] - 1 - to_end] = index
    return Cycles(cycle_of=labels.cycle_of, first=labels.first, lengths=labels.lengths, order=order, offsets=offsets)


def _distance_to_cycle_end(succ: np.ndarray, labels: CycleLabels, index: np.ndarray) -> np.ndarray:
    """Steps from each element to the last element of its cycle (the one before its first)."""
    is_last = succ == labels.first[labels.cycle_of]
    # Cutting every cycle before its first element leaves linked lists: list ranking by Wyllie's
    # pointer doubling, with as many rounds as the longest list needs.
    jump = np.where(is_last, index, succ)
    steps = (~is_last).astype(np.int64)
    longest = int(labels.lengths.max()) if len(labels.lengths) else 1
    for _ in range(max(longest - 1, 0).bit_length()):
        steps += steps[jump]
        jump = jump[jump]
    return steps
