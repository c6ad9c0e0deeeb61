"""Binary morphology on (k, j, i) masks with radii in millimetres and in-plane (2D) connectivity.

Radii are converted to voxels per axis, so an anisotropic grid (0.98 mm pixels, 3 mm slices) gets
an elliptical element of the intended physical size.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

#: 4-connectivity inside each slice and none across slices: per-slice operations in one call.
IN_PLANE = np.zeros((3, 3, 3), dtype=bool)
IN_PLANE[1] = ndimage.generate_binary_structure(2, 1)
#: 6-connectivity in 3D.
FACES = ndimage.generate_binary_structure(3, 1)


def disk(radius_mm: float, spacing_ji_mm: tuple[float, float]) -> np.ndarray:
    """An in-plane elliptical element of ``radius_mm`` as a (1, rows, columns) bool array."""
    rj, ri = (max(int(radius_mm // s), 0) for s in spacing_ji_mm)
    j, i = np.ogrid[-rj:rj + 1, -ri:ri + 1]
    inside = (j * spacing_ji_mm[0]) ** 2 + (i * spacing_ji_mm[1]) ** 2 <= radius_mm ** 2 + 1e-6
    return inside[np.newaxis]


#: 8-connected in-plane square; alternated with :data:`IN_PLANE` it approximates a disk (octagon).
SQUARE = np.zeros((3, 3, 3), dtype=bool)
SQUARE[1] = True


def _steps(radius_mm: float, spacing_ji_mm: tuple[float, float]) -> int | None:
    """Unit steps for an octagonal disk of ``radius_mm``, or None when pixels are not square."""
    if abs(spacing_ji_mm[0] - spacing_ji_mm[1]) > 1e-3 * max(spacing_ji_mm):
        return None
    return int(round(radius_mm / spacing_ji_mm[0]))


def erode_in_plane(mask: np.ndarray, radius_mm: float, spacing_ji_mm: tuple[float, float]) -> np.ndarray:
    """Per-slice erosion by a disk of ``radius_mm`` (octagon of cheap 3×3 steps on square pixels)."""
    steps = _steps(radius_mm, spacing_ji_mm)
    if steps is None:
        return ndimage.binary_erosion(mask, structure=disk(radius_mm, spacing_ji_mm))
    for step in range(steps):
        mask = shift_step(mask, square=bool(step % 2), erode=True)
    return mask


def dilate_in_plane(mask: np.ndarray, radius_mm: float, spacing_ji_mm: tuple[float, float]) -> np.ndarray:
    """Per-slice dilation by a disk of ``radius_mm``; the counterpart of :func:`erode_in_plane`."""
    steps = _steps(radius_mm, spacing_ji_mm)
    if steps is None:
        return ndimage.binary_dilation(mask, structure=disk(radius_mm, spacing_ji_mm))
    for step in range(steps):
        mask = shift_step(mask, square=bool(step % 2), erode=False)
    return mask


def shift_step(mask: np.ndarray, *, square: bool, erode: bool) -> np.ndarray:
    """One in-plane 3×3 (square) or cross erosion/dilation with outside-the-image = False.

    Equal to ``ndimage.binary_erosion``/``binary_dilation`` with :data:`SQUARE` or :data:`IN_PLANE`,
    but done with whole-array shifts, which is several times faster on 512×512×n volumes.
    """
    combine = np.logical_and if erode else np.logical_or
    rows = mask.copy()
    combine(rows[:, 1:], mask[:, :-1], out=rows[:, 1:])
    combine(rows[:, :-1], mask[:, 1:], out=rows[:, :-1])
    if erode:
        rows[:, 0] = False
        rows[:, -1] = False
    # The square combines the column neighbours of the row result; the cross those of the input.
    source = rows.copy() if square else mask
    combine(rows[:, :, 1:], source[:, :, :-1], out=rows[:, :, 1:])
    combine(rows[:, :, :-1], source[:, :, 1:], out=rows[:, :, :-1])
    if erode:
        rows[:, :, 0] = False
        rows[:, :, -1] = False
    return rows


def open_in_plane(mask: np.ndarray, radius_mm: float, spacing_ji_mm: tuple[float, float]) -> np.ndarray:
    """Per-slice opening with a disk: removes bridges and objects thinner than 2 × radius."""
    return dilate_in_plane(erode_in_plane(mask, radius_mm, spacing_ji_mm), radius_mm, spacing_ji_mm)


def close_in_plane(mask: np.ndarray, radius_mm: float, spacing_ji_mm: tuple[float, float]) -> np.ndarray:
    """Per-slice closing with a disk; the border is padded so closing never eats the image edge."""
    rj, ri = (int(radius_mm // s) + 1 for s in spacing_ji_mm)
    padded = np.pad(mask, ((0, 0), (rj, rj), (ri, ri)))
    closed = erode_in_plane(dilate_in_plane(padded, radius_mm, spacing_ji_mm), radius_mm, spacing_ji_mm)
    return closed[:, rj:closed.shape[1] - rj, ri:closed.shape[2] - ri]


def fill_holes_in_plane(mask: np.ndarray, max_hole_voxels: int | None = None) -> np.ndarray:
    """Fill, slice by slice, background regions that do not touch the slice border.

    With ``max_hole_voxels``, only holes up to that many pixels are filled.
    """
    labels, box = holes_in_plane(mask, max_hole_voxels)
    out = mask.copy()
    out[box] |= labels > 0
    return out


Box = tuple[slice, slice, slice]


def holes_in_plane(mask: np.ndarray, max_hole_voxels: int | None = None) -> tuple[np.ndarray, Box]:
    """Labels (0 = no hole) of the per-slice holes of ``mask`` in a box of it, and that box.

    Holes are background regions not touching the slice border; with ``max_hole_voxels``, larger ones
    are left out. Labels are unique but not consecutive. Holes lie inside the mask's in-plane bounding
    box, so only that box (plus a one-pixel ring of background) is labelled and returned.
    """
    present_j, present_i = np.flatnonzero(mask.any(axis=(0, 2))), np.flatnonzero(mask.any(axis=(0, 1)))
    if present_j.size == 0:
        return np.zeros((mask.shape[0], 0, 0), dtype=np.int32), (slice(None), slice(0, 0), slice(0, 0))
    box = (slice(None), slice(max(int(present_j[0]) - 1, 0), int(present_j[-1]) + 2),
           slice(max(int(present_i[0]) - 1, 0), int(present_i[-1]) + 2))
    return _holes_in_box(mask[box], max_hole_voxels), box


def _holes_in_box(mask: np.ndarray, max_hole_voxels: int | None) -> np.ndarray:
    background, count = ndimage.label(~mask, structure=IN_PLANE)
    if count == 0:
        return background
    keep_open = np.zeros(count + 1, dtype=bool)
    for edge in (background[:, 0, :], background[:, -1, :], background[:, :, 0], background[:, :, -1]):
        keep_open[edge.ravel()] = True
    if max_hole_voxels is not None:
        keep_open |= np.bincount(background.ravel(), minlength=count + 1) > max_hole_voxels
    keep_open[0] = True
    background[keep_open[background]] = 0
    return background


def grow_within(seeds: np.ndarray, allowed: np.ndarray, steps_ji: int, steps_k: int) -> np.ndarray:
    """Seeds grown into ``allowed`` voxels, one voxel per step: ``steps_ji`` in-plane, ``steps_k`` across slices.

    A geodesic dilation: growth passes only through allowed voxels, so it follows them around
    corners but never jumps a gap, and stops after the given number of steps (a bounded reach).
    """
    grown = seeds.copy()
    for step in range(max(steps_ji, steps_k)):
        wider = shift_step(grown, square=bool(step % 2), erode=False) if step < steps_ji else grown.copy()
        if step < steps_k:
            wider[1:] |= grown[:-1]
            wider[:-1] |= grown[1:]
        grown = (wider & allowed) | seeds
    return grown


def remove_small_components(mask: np.ndarray, min_voxels: int, structure: np.ndarray = FACES,
                            min_voxels_inside: int = 0) -> np.ndarray:
    """Drop connected components with fewer than ``min_voxels`` voxels, and those with fewer than
    ``min_voxels_inside`` that do not touch the in-plane edge of the array (pieces cut by the edge
    may be parts of something larger)."""
    labels, count = ndimage.label(mask, structure=structure)
    if count == 0:
        return mask.copy()
    sizes = np.bincount(labels.ravel())
    keep = sizes >= min_voxels
    if min_voxels_inside > min_voxels:
        cut = np.zeros(count + 1, dtype=bool)
        for edge in (labels[:, 0, :], labels[:, -1, :], labels[:, :, 0], labels[:, :, -1]):
            cut[edge.ravel()] = True
        keep &= (sizes >= min_voxels_inside) | cut
    keep[0] = False
    return keep[labels]
