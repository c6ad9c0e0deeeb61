"""Which CT planes the report shows, and their images with contour outlines.

The overview is one axial, one coronal and one sagittal plane, each through the slice that cuts the
most structures (ties: the middle one), in soft-tissue window. Each structure also gets a small
axial close-up through its centre; lung structures get a lung window there, since in a soft-tissue
window lung is black and its outline shows nothing of the parenchyma it should follow.

Planes are drawn in patient axis order (see :mod:`.orientation`), in radiological convention:
axial seen from the feet (patient's right on the image's left, anterior up), coronal seen from the
front, sagittal with anterior on the left; superior is up. The labels say so on every image.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..ct.model import ImageGeometry
from .orientation import LpsGrid
from .render import LUNG, SOFT_TISSUE, Color, Outline, Window, render_plane, to_png

OVERVIEW_PX = 512
CLOSE_UP_PX = 200
CLOSE_UP_MARGIN_MM = 25.0
CLOSE_UP_MIN_MM = 80.0


class Plane(str, enum.Enum):
    AXIAL = "axial"
    CORONAL = "coronal"
    SAGITTAL = "sagittal"

    @property
    def normal_axis(self) -> int:
        """The LPS axis (0 = x, 1 = y, 2 = z) the plane is perpendicular to."""
        return {Plane.AXIAL: 2, Plane.CORONAL: 1, Plane.SAGITTAL: 0}[self]

    @property
    def labels(self) -> tuple[str, str, str, str]:
        """Patient directions at the image's top, bottom, left and right edges."""
        return {Plane.AXIAL: ("A", "P", "R", "L"), Plane.CORONAL: ("S", "I", "R", "L"),
                Plane.SAGITTAL: ("S", "I", "A", "P")}[self]


@dataclass(frozen=True)
class Overlay:
    """A structure to draw: its mask on the CT grid (k, j, i) and its display colour."""

    name: str
    color: Color
    mask: np.ndarray
    lung_window: bool = False
    #: Drawn as a dashed outline (a second contour set compared with a solid one).
    dashed: bool = False


@dataclass(frozen=True)
class ViewImage:
    """One rendered plane: PNG bytes and what it shows."""

    plane: Plane
    index: int
    position_mm: float
    window: Window
    png: bytes
    width_px: int
    height_px: int
    shown: tuple[str, ...]

    @property
    def labels(self) -> tuple[str, str, str, str]:
        return self.plane.labels


def plane_of(volume_zyx: np.ndarray, plane: Plane, index: int) -> np.ndarray:
    """The (rows, columns) image of ``plane`` at ``index``, oriented as described in the module doc."""
    if plane is Plane.AXIAL:
        return volume_zyx[index, :, :]
    if plane is Plane.CORONAL:
        return volume_zyx[::-1, index, :]
    return volume_zyx[::-1, :, index]


def pixel_mm(grid: LpsGrid, plane: Plane) -> tuple[float, float]:
    """(row, column) spacing of a plane: slice thickness sets the row height of coronal and sagittal."""
    x, y, z = grid.spacing_mm
    return {Plane.AXIAL: (y, x), Plane.CORONAL: (z, x), Plane.SAGITTAL: (z, y)}[plane]


def busiest_index(masks_zyx: Sequence[np.ndarray], axis: int, length: int) -> int:
    """Index along ``axis`` (0 = z, 1 = y, 2 = x) crossing the most structures; ties go to the middle one."""
    counts = np.zeros(length, dtype=int)
    for mask in masks_zyx:
        others = tuple(a for a in range(3) if a != axis)
        counts += mask.any(axis=others)
    if not counts.any():
        return length // 2
    best = np.flatnonzero(counts == counts.max())
    return int(best[np.argmin(np.abs(best - np.median(best)))])


def overview(hu_kji: np.ndarray, geometry: ImageGeometry, overlays: Sequence[Overlay]) -> tuple[ViewImage, ...]:
    """Axial, coronal and sagittal views, each through the plane crossing the most structures."""
    grid = LpsGrid.from_geometry(geometry)
    masks = [grid.to_zyx(o.mask) for o in overlays]
    views = []
    for plane in Plane:
        array_axis = 2 - plane.normal_axis
        index = busiest_index(masks, array_axis, grid.shape_zyx[array_axis])
        views.append(view_at(hu_kji, geometry, overlays, plane, index))
    return tuple(views)


def view_at(hu_kji: np.ndarray, geometry: ImageGeometry, overlays: Sequence[Overlay], plane: Plane, index: int,
            window: Window = SOFT_TISSUE, crop: tuple[slice, slice] | None = None,
            longest_px: int = OVERVIEW_PX) -> ViewImage:
    """``plane`` at ``index`` along its normal, counted in LPS order (toward L, P or S), with outlines.

    ``crop`` selects (rows, columns) of the plane image before it is scaled to ``longest_px``.
    """
    grid = LpsGrid.from_geometry(geometry)
    region = crop or (slice(None), slice(None))
    outlines = [Outline(o.name, o.color, plane_of(grid.to_zyx(o.mask), plane, index)[region], o.dashed)
                for o in overlays]
    drawn = [o for o in outlines if o.mask.any()]
    image = render_plane(plane_of(grid.to_zyx(hu_kji), plane, index)[region], pixel_mm(grid, plane), window,
                         drawn, longest_px)
    return ViewImage(plane, index, grid.position_mm(plane.normal_axis, index), window, to_png(image),
                     image.width, image.height, tuple(o.name for o in drawn))


def close_up(hu_kji: np.ndarray, geometry: ImageGeometry, overlays: Sequence[Overlay], focus: int) -> ViewImage | None:
    """A small axial view centred on ``overlays[focus]``, drawn last so it is on top; None when it is empty."""
    grid = LpsGrid.from_geometry(geometry)
    target = grid.to_zyx(overlays[focus].mask)
    per_slice = target.sum(axis=(1, 2))
    slices_present = np.flatnonzero(per_slice)
    if slices_present.size == 0:
        return None
    centre = float(np.dot(per_slice, np.arange(per_slice.size)) / per_slice.sum())
    z = int(slices_present[np.argmin(np.abs(slices_present - centre))])
    crop = crop_around(target[z], grid)
    order = [i for i in range(len(overlays)) if i != focus] + [focus]
    window = LUNG if overlays[focus].lung_window else SOFT_TISSUE
    return view_at(hu_kji, geometry, [overlays[i] for i in order], Plane.AXIAL, z, window, crop, CLOSE_UP_PX)


def crop_around(mask_yx: np.ndarray, grid: LpsGrid) -> tuple[slice, slice]:
    """Rows and columns around a 2-D mask, with a margin and a minimum field of view in mm."""
    rows, columns = np.flatnonzero(mask_yx.any(axis=1)), np.flatnonzero(mask_yx.any(axis=0))
    x_mm, y_mm = grid.spacing_mm[0], grid.spacing_mm[1]
    return (_padded(rows[0], rows[-1], y_mm, mask_yx.shape[0]), _padded(columns[0], columns[-1], x_mm, mask_yx.shape[1]))


def _padded(first: int, last: int, spacing_mm: float, length: int) -> slice:
    half_mm = max((last - first + 1) * spacing_mm / 2.0 + CLOSE_UP_MARGIN_MM, CLOSE_UP_MIN_MM / 2.0)
    centre = (first + last) / 2.0
    half = int(np.ceil(half_mm / spacing_mm))
    start = max(0, int(round(centre)) - half)
    return slice(start, min(length, int(round(centre)) + half + 1))
