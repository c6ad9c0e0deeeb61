"""Cancellous bone: the spongy interior of vertebral bodies and other bones, which a cortical threshold misses.

Trabecular bone and red marrow are about 100-300 HU, the range of enhanced vessels and organs, so
a lower threshold alone would leak into soft tissue. Both steps are therefore anchored on the
cortical bone already found:

1. growth: voxels of at least ``bone_cancellous_hu`` within ``bone_cancellous_reach_mm`` of cortical
   bone (in-plane and across slices) join it, which crosses partial-volume gaps in thin cortex into
   the trabecular core; voxels beside soft tissue are the blurred outer surface and do not. On fine
   grids it stays inside the cortex closed by ``bone_enclosure_closing_mm``: the arc of a calcified
   vessel wall or costal cartilage encloses nothing, so the enhanced aortic lumen and the cartilage
   beside it are not rimmed (coarse grids break the cortex too much to close);
2. enclosed marrow: per slice, holes enclosed by the (closed) shell join when they are small and
   dense enough; the spinal canal, also enclosed by the vertebral ring, is too light.
"""

from __future__ import annotations

import numpy as np

from .morphology import close_in_plane, fill_holes_in_plane, grow_within, holes_in_plane, shift_step
from .settings import ClassicalSettings


def add_cancellous_bone(cortical: np.ndarray, hu: np.ndarray, body: np.ndarray,
                        spacing_kji_mm: tuple[float, float, float], settings: ClassicalSettings,
                        enclosed_growth: bool = False) -> np.ndarray:
    """``cortical`` (bool, k j i) with the cancellous bone it encloses or borders; never outside ``body``.

    With ``enclosed_growth``, growth stays inside the cortex closed by ``bone_enclosure_closing_mm``
    and filled per slice, so that it does not rim calcified cartilage or a calcified vessel wall.
    """
    slice_mm, row_mm, column_mm = spacing_kji_mm
    reach_mm = settings.bone_cancellous_reach_mm
    steps_ji = int(round(reach_mm / ((row_mm + column_mm) / 2.0)))
    steps_k = int(reach_mm // slice_mm)
    # Every in-plane neighbour denser than soft tissue: inside a bone, not on its blurred surface.
    among_bone = shift_step(hu >= settings.bone_soft_tissue_max_hu, square=False, erode=True)
    allowed = (hu >= settings.bone_cancellous_hu) & among_bone & body
    grown = grow_within(cortical, allowed, steps_ji, steps_k)
    if enclosed_growth:
        grown = cortical | (grown & enclosure(cortical, (row_mm, column_mm), settings))
    return grown | (enclosed_marrow(grown, hu, (row_mm, column_mm), settings) & body)


def enclosure(cortical: np.ndarray, spacing_ji_mm: tuple[float, float], settings: ClassicalSettings) -> np.ndarray:
    """Per slice, the cortex closed by ``bone_enclosure_closing_mm`` with its holes up to the marrow area.

    The size limit keeps a slice where ribs, spine and sternum close into a ring around the trunk
    from enclosing the aorta.
    """
    closed = close_in_plane(cortical, settings.bone_enclosure_closing_mm, spacing_ji_mm)
    return fill_holes_in_plane(closed, max_marrow_voxels(spacing_ji_mm, settings))


def max_marrow_voxels(spacing_ji_mm: tuple[float, float], settings: ClassicalSettings) -> int:
    """``bone_marrow_max_area_mm2`` in pixels."""
    return int(settings.bone_marrow_max_area_mm2 / (spacing_ji_mm[0] * spacing_ji_mm[1]))


def enclosed_marrow(bone: np.ndarray, hu: np.ndarray, spacing_ji_mm: tuple[float, float],
                    settings: ClassicalSettings) -> np.ndarray:
    """Per-slice holes of the closed ``bone`` shell that are small and dense enough to be marrow."""
    shell = close_in_plane(bone, settings.bone_shell_closing_mm, spacing_ji_mm)
    labels, box = holes_in_plane(shell, max_marrow_voxels(spacing_ji_mm, settings))
    marrow = np.zeros_like(bone)
    inside = labels > 0
    if not inside.any():
        return marrow
    # Sums over the few hole voxels only: cheaper than ndimage.mean's pass per label.
    label = labels[inside]
    voxels = np.bincount(label)
    sums = np.bincount(label, weights=hu[box][inside].astype(float))
    dense = sums >= settings.bone_marrow_min_mean_hu * np.maximum(voxels, 1)
    dense[0] = False
    marrow[box] = dense[labels]
    return marrow
