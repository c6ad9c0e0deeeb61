"""Cycles of a permutation, found and ordered with vectorised pointer doubling.

The contour tracer and the keyhole merger both describe their polygons as a successor permutation
(``succ[n]`` is the point after point ``n``). Walking it in Python would cost one interpreter step
per point; pointer doubling instead needs ``log2(longest cycle)`` numpy gathers over all points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Cycles:
    """The cycles of a permutation, each listed from its smallest element.

    Attributes
    ----------
    order : numpy.ndarray
        ``(n,)`` all elements, cycle after cycle; cycles are sorted by their smallest element and
        each starts there, then follows the successor.
    offsets : numpy.ndarray
        ``(n_cycles + 1,)``; cycle ``m`` is ``order[offsets[m]:offsets[m + 1]]``.
    cycle_of : numpy.ndarray
        ``(n,)`` the cycle index of every element.
    """

    order: np.ndarray
    offsets: np.ndarray
    cycle_of: np.ndarray

    @property
    def first(self) -> np.ndarray:
        """The smallest element of each cycle (its first element in :attr:`order`)."""
        return self.order[self.offsets[:-1]]


def cycle_minimum(succ: np.ndarray) -> np.ndarray:
    """The smallest element of the cycle through each element of the permutation ``succ``."""
    smallest = np.arange(len(succ), dtype=succ.dtype)
    jump = succ.copy()
    while True:
        # After t rounds `smallest[x]` covers the 2**t elements from x on; once a round changes
        # nothing it covers the whole cycle (the windows tile it), so stopping early is exact.
        updated = np.minimum(smallest, smallest[jump])
        if np.array_equal(updated, smallest):
            return smallest
        smallest = updated
        jump = jump[jump]


def order_cycles(succ: np.ndarray) -> Cycles:
    """Split the permutation ``succ`` into its cycles and list each from its smallest element.

    Parameters
    ----------
    succ : numpy.ndarray
        ``(n,)`` integer permutation of ``0..n-1``.

    Returns
    -------
    Cycles
    """
    n = len(succ)
    index = np.arange(n, dtype=succ.dtype)
    start = cycle_minimum(succ)
    to_end = _distance_to_cycle_end(succ, start, index)
    is_start = start == index
    cycle_id = np.cumsum(is_start) - 1
    cycle_of = cycle_id[start]
    lengths = to_end[is_start] + 1
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    order = np.empty(n, dtype=succ.dtype)
    # Position within the cycle = distance from its start = (length - 1) - distance to its end.
    order[offsets[cycle_of] + to_end[start] - to_end] = index
    return Cycles(order=order, offsets=offsets, cycle_of=cycle_of)


def _distance_to_cycle_end(succ: np.ndarray, start: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Steps from each element to the last element of its cycle (the one before its start)."""
    is_last = succ == start
    # Cut every cycle before its start: a list ranking problem, solved by Wyllie's doubling.
    jump = np.where(is_last, index, succ)
    steps = (~is_last).astype(np.int64)
    while True:
        further = jump[jump]
        if np.array_equal(further, jump):
            return steps
        steps += steps[jump]
        jump = further
