"""Voxel-wise Boolean operations on structure masks of one CT grid.

``subtract(Lungs, GTV)`` is TG-263's ``Lungs-GTV``; ``crop_to(PTV, Body)`` keeps a target inside
the body. Every function returns a new array and checks that the masks share a grid.
"""

from __future__ import annotations

import logging
from functools import reduce

import numpy as np

from ..errors import GeometryError

logger = logging.getLogger(__name__)


def union(*masks: np.ndarray) -> np.ndarray:
    """Voxels in any of the masks.

    Raises
    ------
    GeometryError
        No mask given, or masks of different shapes.
    """
    arrays = _same_grid(masks, "union")
    return reduce(np.logical_or, arrays[1:], arrays[0].copy())


def intersect(*masks: np.ndarray) -> np.ndarray:
    """Voxels in every mask.

    Raises
    ------
    GeometryError
        No mask given, or masks of different shapes.
    """
    arrays = _same_grid(masks, "intersect")
    return reduce(np.logical_and, arrays[1:], arrays[0].copy())


def subtract(minuend: np.ndarray, *subtrahends: np.ndarray) -> np.ndarray:
    """Voxels of ``minuend`` in none of ``subtrahends`` (TG-263 ``A-B``).

    Raises
    ------
    GeometryError
        Masks of different shapes.
    """
    arrays = _same_grid((minuend, *subtrahends), "subtract")
    result = arrays[0].copy()
    for other in arrays[1:]:
        result &= ~other
    return result


def crop_to(mask: np.ndarray, boundary: np.ndarray) -> np.ndarray:
    """The part of ``mask`` inside ``boundary`` (e.g. a PTV cropped to the body).

    Raises
    ------
    GeometryError
        Masks of different shapes.
    """
    return intersect(mask, boundary)


def _same_grid(masks: tuple[np.ndarray, ...], operation: str) -> list[np.ndarray]:
    if not masks:
        raise GeometryError(f"{operation} needs at least one mask.", hint="Pass the structure masks to combine.")
    arrays = [np.asarray(m).astype(bool, copy=False) for m in masks]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise GeometryError(f"{operation}: masks are on different grids {sorted(shapes)}.",
                            hint="Resample every structure onto the CT grid before combining them.")
    return arrays
