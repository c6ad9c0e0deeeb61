"""Draw one CT plane: a grey-level window, square display pixels, and contour outlines in colour.

Outlines are drawn as whole pixels of the structure's exact colour (no blending), so a reader, and
a test, finds a structure by its colour. Masks are scaled with nearest-neighbour sampling before the
outline is taken, so the outline follows the voxel edges at display resolution.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

Color = tuple[int, int, int]


@dataclass(frozen=True)
class Window:
    """A CT display window in Hounsfield units."""

    name: str
    width_hu: float
    level_hu: float

    def to_grey(self, hu: np.ndarray) -> np.ndarray:
        low = self.level_hu - self.width_hu / 2.0
        scaled = (hu.astype(np.float32) - low) * (255.0 / self.width_hu)
        return np.clip(scaled, 0.0, 255.0).astype(np.uint8)


SOFT_TISSUE = Window("soft tissue", 400.0, 40.0)
LUNG = Window("lung", 1500.0, -600.0)


@dataclass(frozen=True)
class Outline:
    """A structure's 2-D mask on the plane (rows, columns) and the colour to draw it in."""

    name: str
    color: Color
    mask: np.ndarray
    #: Draw every other short run of the outline only, so two outlines stay apart where they overlap.
    dashed: bool = False


def display_size(shape: tuple[int, int], pixel_mm: tuple[float, float], longest_px: int) -> tuple[int, int]:
    """(width, height) in display pixels with the physical aspect ratio of ``shape`` (rows, columns)."""
    height_mm, width_mm = shape[0] * pixel_mm[0], shape[1] * pixel_mm[1]
    scale = longest_px / max(height_mm, width_mm)
    return max(1, round(width_mm * scale)), max(1, round(height_mm * scale))


def render_plane(hu: np.ndarray, pixel_mm: tuple[float, float], window: Window, outlines: Sequence[Outline],
                 longest_px: int, thickness_px: int = 2) -> Image.Image:
    """An RGB image of one plane; ``pixel_mm`` is (row, column) spacing, ``hu`` is (rows, columns)."""
    size = display_size(hu.shape, pixel_mm, longest_px)
    grey = Image.fromarray(window.to_grey(hu)).resize(size, Image.Resampling.BILINEAR)
    rgb = np.repeat(np.asarray(grey)[:, :, np.newaxis], 3, axis=2)
    for outline in outlines:
        found = outline_in_box(outline.mask, size, thickness_px)
        if found is None:
            continue
        box, pixels = found
        if outline.dashed:
            pixels &= dash_pattern(rgb.shape)[box]
        rgb[box][pixels] = outline.color
    return Image.fromarray(rgb, "RGB")


def outline_pixels(mask: np.ndarray, size: tuple[int, int], thickness_px: int) -> np.ndarray:
    """Inner border, ``thickness_px`` wide, of ``mask`` scaled to ``size`` (width, height)."""
    border = np.zeros((size[1], size[0]), dtype=bool)
    found = outline_in_box(mask, size, thickness_px)
    if found is not None:
        border[found[0]] = found[1]
    return border


def outline_in_box(mask: np.ndarray, size: tuple[int, int], thickness_px: int
                   ) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """:func:`outline_pixels` within the scaled mask's bounding box, and that box; None for an empty mask.

    Eroding the box alone gives the same border: outside it, as beyond the image edge (erosion's
    border value), every pixel is off.
    """
    scaled = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize(size, Image.Resampling.NEAREST)) > 0
    rows, columns = np.flatnonzero(scaled.any(axis=1)), np.flatnonzero(scaled.any(axis=0))
    if not rows.size:
        return None
    box = (slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1))
    inside = scaled[box]
    return box, inside & ~ndimage.binary_erosion(inside, iterations=thickness_px)


def dash_pattern(shape: tuple[int, ...], period_px: int = 12) -> np.ndarray:
    """Diagonal bands, half of them on: cuts an outline running in any direction into dashes."""
    rows, columns = np.indices(shape[:2])
    return ((rows + columns) // (period_px // 2)) % 2 == 0


def to_png(image: Image.Image) -> bytes:
    # zlib level 6 with its default strategy: a page of 120 views encodes about five times faster than
    # at level 9 (Pillow's filtered strategy), for PNGs some 7 % larger; the pixels are the same.
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6, compress_type=zlib.Z_DEFAULT_STRATEGY)
    return buffer.getvalue()
