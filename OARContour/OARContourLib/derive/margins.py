"""Margins on anisotropic voxel grids: expansion (PRV), contraction and rings, in millimetres.

Distances are Euclidean between voxel centres, measured in mm with the grid's spacing
(``scipy.ndimage.distance_transform_edt`` with ``sampling``), so a 5 mm margin on a
0.98 × 0.98 × 3 mm grid is 5 mm in every direction, not five voxels. A voxel belongs to
``expand(mask, m)`` when its centre lies within ``m`` mm of the centre of a mask voxel.

Per-axis margins ``(mk, mj, mi)`` expand by an ellipsoid with those semi-axes (the distance is
measured in units of the margin along each axis). Margins in patient directions (anterior,
posterior, left, right, superior, inferior) need the image direction and are not handled here.

Each transform runs on the mask's bounding box padded by the margin, not on the whole grid,
which keeps a PRV of an organ on a 512 × 512 × 150 grid to a fraction of a second.
Arrays are (k, j, i) = (slice, row, column); spacing is given in the same order.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from ..ct.model import ImageGeometry
from ..errors import GeometryError, InputError

logger = logging.getLogger(__name__)

#: A margin in mm: one number (isotropic) or one per array axis (k, j, i).
Margin = float | Sequence[float]
#: Stands in for "no margin along this axis" in the scaled distance (an axis the ellipsoid does not reach).
_NO_REACH = 1e-9


def spacing_kji(geometry: ImageGeometry) -> tuple[float, float, float]:
    """Spacing in array order (slice, row, column) from :class:`ImageGeometry` (which stores (i, j, k))."""
    i, j, k = geometry.spacing_mm
    return float(k), float(j), float(i)


def expand(mask: np.ndarray, spacing_mm_kji: Sequence[float], margin_mm: Margin) -> np.ndarray:
    """Grow a mask by a margin in mm (the PRV operation).

    Parameters
    ----------
    mask
        Boolean (k, j, i) array.
    spacing_mm_kji
        Voxel spacing in mm, (slice, row, column).
    margin_mm
        Isotropic margin, or one margin per array axis (k, j, i); all ≥ 0.

    Returns
    -------
    numpy.ndarray
        A new boolean array of the same shape; the input is never modified.

    Raises
    ------
    InputError
        A negative or non-finite margin.
    GeometryError
        The mask is not 3-D or the spacing is not three positive numbers.
    """
    mask = checked_mask(mask, spacing_mm_kji)
    margins = _margins(margin_mm)
    if not mask.any() or not any(margins):
        return mask.copy()
    spacing = np.asarray(spacing_mm_kji, dtype=float)
    pad = [math.ceil(m / s) + 1 for m, s in zip(margins, spacing)]
    box = padded_box(mask, pad)
    scaled = _scaled_distance(~mask[box], spacing, margins)
    result = np.zeros_like(mask)
    result[box] = scaled <= 1.0 + 1e-9
    return result


def shrink(mask: np.ndarray, spacing_mm_kji: Sequence[float], margin_mm: Margin) -> np.ndarray:
    """Contract a mask by a margin in mm: the complement of expanding its complement.

    A voxel stays when no background voxel lies within the margin. Space outside the grid counts
    as background, so a structure cut by the grid edge also shrinks from that edge.

    Parameters
    ----------
    mask, spacing_mm_kji, margin_mm
        As for :func:`expand`.

    Returns
    -------
    numpy.ndarray
        A new boolean array of the same shape (possibly empty).

    Raises
    ------
    InputError, GeometryError
        As for :func:`expand`.
    """
    mask = checked_mask(mask, spacing_mm_kji)
    margins = _margins(margin_mm)
    if not mask.any() or not any(margins):
        return mask.copy()
    spacing = np.asarray(spacing_mm_kji, dtype=float)
    box = padded_box(mask, [0, 0, 0])
    # One voxel of background all round stands for the space outside the box (and the grid).
    inside = np.pad(mask[box], 1, constant_values=False)
    scaled = _scaled_distance(inside, spacing, margins)[1:-1, 1:-1, 1:-1]
    result = np.zeros_like(mask)
    result[box] = scaled > 1.0 + 1e-9
    return result


def ring(mask: np.ndarray, spacing_mm_kji: Sequence[float], inner_mm: float, outer_mm: float) -> np.ndarray:
    """The shell between two expansions: ``expand(outer) - expand(inner)``.

    Parameters
    ----------
    mask, spacing_mm_kji
        As for :func:`expand`.
    inner_mm
        Gap between the structure and the ring; 0 starts the ring at the structure's surface.
    outer_mm
        Outer edge of the ring from the structure's surface; must exceed ``inner_mm``.

    Returns
    -------
    numpy.ndarray
        A new boolean array of the same shape.

    Raises
    ------
    InputError
        A negative margin, or ``outer_mm`` not larger than ``inner_mm``.
    GeometryError
        As for :func:`expand`.
    """
    if not outer_mm > inner_mm:
        raise InputError(f"Ring outer margin {outer_mm:g} mm must exceed the inner margin {inner_mm:g} mm.",
                         hint="Give the ring as inner:outer in mm, e.g. PTV:5:15.")
    outer = expand(mask, spacing_mm_kji, outer_mm)
    outer &= ~expand(mask, spacing_mm_kji, inner_mm)
    return outer


def _scaled_distance(background: np.ndarray, spacing: np.ndarray, margins: tuple[float, ...]) -> np.ndarray:
    """Distance from each ``True`` voxel centre to the surface of the ``False`` region, in margin units.

    A mask stands for a smooth surface lying between its inside and outside voxel centres, so
    the distance to the nearest ``False`` centre ``q`` is reduced by half the distance from ``q``
    to its own nearest ``True`` centre (the surface estimated midway, as a 0.5 threshold of a
    linear interpolation would put it). Measured centre to centre instead, a margin would lose
    up to half a voxel (1.5 mm across 3 mm slices); measured to voxel boxes it would gain the
    staircase corners.
    """
    if background.all() or not background.any():
        return np.full(background.shape, np.inf if background.all() else 0.0)
    scale = np.array([m if m > 0 else _NO_REACH for m in margins])
    sampling = spacing / scale
    distance, nearest = ndimage.distance_transform_edt(background, sampling=sampling, return_indices=True)
    depth = np.asarray(ndimage.distance_transform_edt(~background, sampling=sampling))
    return np.asarray(distance - depth[tuple(nearest)] / 2)


def padded_box(mask: np.ndarray, pad: Sequence[int]) -> tuple[slice, ...]:
    """The bounding box of ``mask`` grown by ``pad`` voxels per axis, clipped to the grid."""
    box = []
    for axis, size in enumerate(mask.shape):
        others = tuple(a for a in range(3) if a != axis)
        hits = np.flatnonzero(mask.any(axis=others))
        box.append(slice(max(int(hits[0]) - pad[axis], 0), min(int(hits[-1]) + 1 + pad[axis], size)))
    return tuple(box)


def _margins(margin_mm: Margin) -> tuple[float, float, float]:
    if isinstance(margin_mm, (int, float, np.number)):
        values: tuple[float, ...] = (float(margin_mm),) * 3
    else:
        values = tuple(float(m) for m in margin_mm)
    if len(values) != 3 or not all(math.isfinite(m) and m >= 0 for m in values):
        raise InputError(f"Margin {margin_mm!r} is not usable.",
                         hint="Give one margin ≥ 0 in mm, or three (k, j, i) = (slice, row, column).")
    return values[0], values[1], values[2]


def checked_mask(mask: np.ndarray, spacing_mm_kji: Sequence[float]) -> np.ndarray:
    array = np.asarray(mask)
    if array.ndim != 3:
        raise GeometryError(f"A structure mask must be 3-D (k, j, i); got shape {array.shape}.",
                            hint="Pass the mask on the CT grid, slices first.")
    spacing = tuple(float(s) for s in spacing_mm_kji)
    if len(spacing) != 3 or not all(math.isfinite(s) and s > 0 for s in spacing):
        raise GeometryError(f"Voxel spacing {spacing_mm_kji!r} is not three positive numbers.",
                            hint="Pass spacing_mm_kji = (slice, row, column) spacing in mm.")
    return array.astype(bool, copy=False)
