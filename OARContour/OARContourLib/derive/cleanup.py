"""Clean-up of structure masks: small islands, holes and volume-preserving smoothing.

Volumes are in mm³ on the grid's (anisotropic) spacing, so "remove islands under 50 mm³" means
the same on a 3 mm and a 1 mm slice grid. Arrays are (k, j, i); spacing in the same order.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from ..errors import InputError
from .margins import checked_mask, padded_box

logger = logging.getLogger(__name__)

#: Gaussian support kept around the mask, in standard deviations.
_TRUNCATE = 3.0


def remove_islands(mask: np.ndarray, spacing_mm_kji: Sequence[float], min_volume_mm3: float,
                   *, full_connectivity: bool = True) -> np.ndarray:
    """Drop connected components smaller than ``min_volume_mm3``.

    Parameters
    ----------
    mask, spacing_mm_kji
        Boolean (k, j, i) mask and its spacing in mm.
    min_volume_mm3
        Components with a volume (voxel count × voxel volume) below this are removed; those at
        or above it are kept.
    full_connectivity
        True: voxels touching by a face, edge or corner are connected (26-connectivity);
        False: faces only (6-connectivity).

    Returns
    -------
    numpy.ndarray
        A new boolean mask.

    Raises
    ------
    InputError
        A negative or non-finite volume.
    GeometryError
        A mask that is not 3-D or a bad spacing.
    """
    mask = checked_mask(mask, spacing_mm_kji)
    if not (math.isfinite(min_volume_mm3) and min_volume_mm3 >= 0):
        raise InputError(f"Minimum island volume {min_volume_mm3!r} mm³ is not usable.",
                         hint="Give a volume ≥ 0 in mm³, e.g. 50.")
    structure = ndimage.generate_binary_structure(3, 3 if full_connectivity else 1)
    labels, count = ndimage.label(mask, structure=structure)
    if count == 0:
        return mask.copy()
    voxel_mm3 = float(np.prod(spacing_mm_kji))
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    keep = sizes * voxel_mm3 >= min_volume_mm3
    keep[0] = False
    logger.debug("remove_islands: kept %d of %d components", int(keep.sum()), count)
    return np.asarray(keep[labels])


def fill_holes(mask: np.ndarray, *, per_slice: bool = False) -> np.ndarray:
    """Fill cavities not connected to the outside.

    Parameters
    ----------
    mask
        Boolean (k, j, i) mask.
    per_slice
        False: fill enclosed 3-D cavities. True: fill holes in each axial slice (k) on its own,
        as contours in an RTSTRUCT would show them.

    Returns
    -------
    numpy.ndarray
        A new boolean mask.
    """
    array = np.asarray(mask).astype(bool)
    if not per_slice:
        return np.asarray(ndimage.binary_fill_holes(array))
    result = array.copy()
    for k in np.flatnonzero(array.any(axis=(1, 2))):
        result[k] = ndimage.binary_fill_holes(array[k])
    return result


def smooth(mask: np.ndarray, spacing_mm_kji: Sequence[float], sigma_mm: float) -> np.ndarray:
    """Smooth a mask's surface while keeping its volume.

    The mask is blurred with a Gaussian of ``sigma_mm`` (in mm, so fewer voxels across the
    slices of a 3 mm grid) and thresholded at the level that keeps as many voxels as the input
    (a quantile of the blurred values), instead of at 0.5, which shrinks convex shapes.

    Parameters
    ----------
    mask, spacing_mm_kji
        Boolean (k, j, i) mask and its spacing in mm.
    sigma_mm
        Standard deviation of the Gaussian in mm; 0 returns a copy.

    Returns
    -------
    numpy.ndarray
        A new boolean mask with the same voxel count, give or take ties at the threshold.

    Raises
    ------
    InputError
        A negative or non-finite sigma.
    GeometryError
        A mask that is not 3-D or a bad spacing.
    """
    mask = checked_mask(mask, spacing_mm_kji)
    if not (math.isfinite(sigma_mm) and sigma_mm >= 0):
        raise InputError(f"Smoothing sigma {sigma_mm!r} mm is not usable.", hint="Give a sigma ≥ 0 in mm, e.g. 1.5.")
    count = int(mask.sum())
    if count == 0 or sigma_mm == 0:
        return mask.copy()
    sigma_vox = [sigma_mm / float(s) for s in spacing_mm_kji]
    box = padded_box(mask, [math.ceil(_TRUNCATE * s) + 1 for s in sigma_vox])
    blurred = ndimage.gaussian_filter(mask[box].astype(np.float32), sigma_vox, mode="constant", truncate=_TRUNCATE)
    values = blurred.ravel()
    threshold = np.partition(values, values.size - count)[values.size - count]
    result = np.zeros_like(mask)
    result[box] = blurred >= threshold
    return result
