"""Which CT planes the report shows, and their images with contour outlines.

The overview is one axial, one coronal and one sagittal plane, each through the slice that cuts the
most structures (ties: the middle one), in soft-tissue window. Each structure also gets a small
axial close-up through its centre; lung structures get a lung window there, since in a soft-tissue
window lung is black and its outline shows nothing of the parenchyma it should follow.

Planes are drawn in patient axis order (see :mod:`.orientation`), in radiological convention:
axial seen from the feet (patient's right on the image's left, anterior up), coronal seen from the
front, sagittal with anterior on the left; superior is up. The labels say so on every image.

Structures are drawn from their bounding blocks: a view composes only the plane it shows (a few
hundred kilobytes), never a full-grid mask per structure, so 100+ structures on a 512×512×300 CT
cost little more than the CT itself.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..ct.model import ImageGeometry
from .orientation import LpsGrid, SortedBlock
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
    """A structure to draw: its mask on the CT grid (k, j, i) and its display colour.

    ``mask`` is the whole grid, or a block of it starting at ``offset_kji`` (as in
    :class:`~OARContourLib.rtstruct.model.Structure`); the views read only the block.
    """

    name: str
    color: Color
    mask: np.ndarray
    lung_window: bool = False
    #: Drawn as a dashed outline (a second contour set compared with a solid one).
    dashed: bool = False
    offset_kji: tuple[int, int, int] = (0, 0, 0)

    def sorted_block(self, grid: LpsGrid) -> SortedBlock:
        """The mask in patient axis order, made once per grid (every close-up reads every overlay)."""
        found = self._sorted_blocks.get(grid)
        if found is None:
            found = self._sorted_blocks[grid] = grid.sorted_block(self.mask, self.offset_kji)
        return found

    @cached_property
    def _sorted_blocks(self) -> dict[LpsGrid, SortedBlock]:
        return {}


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


def plane_shape(shape_zyx: tuple[int, int, int], plane: Plane) -> tuple[int, int]:
    """(rows, columns) of the image :func:`plane_of` cuts from a (z, y, x) grid of ``shape_zyx``."""
    z, y, x = shape_zyx
    return {Plane.AXIAL: (y, x), Plane.CORONAL: (z, x), Plane.SAGITTAL: (z, y)}[plane]


def plane_mask(block: SortedBlock, shape_zyx: tuple[int, int, int], plane: Plane, index: int,
               region: tuple[slice, slice]) -> np.ndarray | None:
    """``plane_of`` the full-grid mask holding ``block``, cut to ``region``; None when no voxel is there.

    Built from the block's own plane only: the result is the size of ``region``, not of the grid.
    """
    axis = 2 - plane.normal_axis
    start = index - block.offset_zyx[axis]
    if block.block.size == 0 or not 0 <= start < block.block.shape[axis]:
        return None
    patch = plane_of(block.block, plane, start)
    z, y, x = block.offset_zyx
    # Coronal and sagittal images run z downward (plane_of reverses it), so the block's top row is its last z.
    top = y if plane is Plane.AXIAL else shape_zyx[0] - z - block.block.shape[0]
    corner = (top, x if plane is not Plane.SAGITTAL else y)
    bounds = [r.indices(n)[:2] for r, n in zip(region, plane_shape(shape_zyx, plane))]
    low = [max(b[0], c) for b, c in zip(bounds, corner)]
    high = [min(b[1], c + n) for b, c, n in zip(bounds, corner, patch.shape)]
    if any(h <= lo for lo, h in zip(low, high)):
        return None
    part = patch[low[0] - corner[0]:high[0] - corner[0], low[1] - corner[1]:high[1] - corner[1]]
    if not part.any():
        return None
    out = np.zeros((bounds[0][1] - bounds[0][0], bounds[1][1] - bounds[1][0]), dtype=bool)
    out[low[0] - bounds[0][0]:high[0] - bounds[0][0], low[1] - bounds[1][0]:high[1] - bounds[1][0]] = part
    return out


def pixel_mm(grid: LpsGrid, plane: Plane) -> tuple[float, float]:
    """(row, column) spacing of a plane: slice thickness sets the row height of coronal and sagittal."""
    x, y, z = grid.spacing_mm
    return {Plane.AXIAL: (y, x), Plane.CORONAL: (z, x), Plane.SAGITTAL: (z, y)}[plane]


def busiest_index(blocks: Sequence[SortedBlock], axis: int, length: int) -> int:
    """Index along ``axis`` (0 = z, 1 = y, 2 = x) crossing the most structures; ties go to the middle one."""
    counts = np.zeros(length, dtype=int)
    for block in blocks:
        counts[block.indices_along(axis)] += 1
    if not counts.any():
        return length // 2
    best = np.flatnonzero(counts == counts.max())
    return int(best[np.argmin(np.abs(best - np.median(best)))])


def overview(hu_kji: np.ndarray, geometry: ImageGeometry, overlays: Sequence[Overlay]) -> tuple[ViewImage, ...]:
    """Axial, coronal and sagittal views, each through the plane crossing the most structures."""
    grid = LpsGrid.from_geometry(geometry)
    blocks = [o.sorted_block(grid) for o in overlays]
    views = []
    for plane in Plane:
        array_axis = 2 - plane.normal_axis
        index = busiest_index(blocks, array_axis, grid.shape_zyx[array_axis])
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
    drawn = []
    for overlay in overlays:
        mask = plane_mask(overlay.sorted_block(grid), grid.shape_zyx, plane, index, region)
        if mask is not None:
            drawn.append(Outline(overlay.name, overlay.color, mask, overlay.dashed))
    image = render_plane(plane_of(grid.to_zyx(hu_kji), plane, index)[region], pixel_mm(grid, plane), window,
                         drawn, longest_px)
    return ViewImage(plane, index, grid.position_mm(plane.normal_axis, index), window, to_png(image),
                     image.width, image.height, tuple(o.name for o in drawn))


def close_up(hu_kji: np.ndarray, geometry: ImageGeometry, overlays: Sequence[Overlay], focus: int) -> ViewImage | None:
    """A small axial view centred on ``overlays[focus]``, drawn last so it is on top; None when it is empty."""
    grid = LpsGrid.from_geometry(geometry)
    target = overlays[focus].sorted_block(grid)
    if target.block.size == 0:
        return None
    per_slice = target.block.sum(axis=(1, 2))
    slices_present = np.flatnonzero(per_slice) + target.offset_zyx[0]
    if slices_present.size == 0:
        return None
    z_indices = np.arange(per_slice.size) + target.offset_zyx[0]
    centre = float(np.dot(per_slice, z_indices) / per_slice.sum())
    z = int(slices_present[np.argmin(np.abs(slices_present - centre))])
    focus_yx = plane_mask(target, grid.shape_zyx, Plane.AXIAL, z, (slice(None), slice(None)))
    if focus_yx is None:  # not reached: slice z holds voxels of the target
        return None
    crop = crop_around(focus_yx, grid)
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
