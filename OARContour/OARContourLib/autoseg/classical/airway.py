"""Trachea and main bronchi by region growing from an air seed on the most superior slices.

The growing threshold is swept from strict to loose; a step whose volume jumps (the region leaked
into lung parenchyma) ends the sweep and the previous region is kept. ``Trachea`` is the part of
the airway above the carina, the first slice (going down) where the airway splits in two.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ...ct.model import ImageGeometry
from .morphology import IN_PLANE, dilate_in_plane
from .orientation import slices_top_down, spacing_kji_mm
from .settings import ClassicalSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Airway:
    """The grown airway (trachea plus main bronchi) and its trachea part, both bool (k, j, i).

    Both include a wall of ``airway_wall_mm`` around the grown lumen, as contouring atlases do.
    """

    airway: np.ndarray
    trachea: np.ndarray
    threshold_hu: float


def find_seed(hu: np.ndarray, body: np.ndarray, geometry: ImageGeometry,
              settings: ClassicalSettings) -> tuple[int, int, int] | None:
    """A voxel of the tracheal lumen: the air region nearest the body's centre on a top slice."""
    spacing = spacing_kji_mm(geometry)
    top = slices_top_down(geometry)
    count = max(1, int(round(settings.airway_top_slices_mm / spacing[0])))
    pixel_mm2 = spacing[1] * spacing[2]
    for k in top[:count]:
        seed = _seed_on_slice(hu[k], body[k], pixel_mm2, settings)
        if seed is not None:
            return (int(k), seed[0], seed[1])
    return None


def _seed_on_slice(hu: np.ndarray, body: np.ndarray, pixel_mm2: float,
                   settings: ClassicalSettings) -> tuple[int, int] | None:
    if not body.any():
        return None
    air = (hu < settings.airway_seed_hu) & ndimage.binary_erosion(body, iterations=2)
    labels, count = ndimage.label(air)
    if count == 0:
        return None
    areas = np.bincount(labels.ravel())[1:] * pixel_mm2
    centres = np.array(ndimage.center_of_mass(air, labels, range(1, count + 1)))
    body_centre = np.array(ndimage.center_of_mass(body))
    distance = np.linalg.norm(centres - body_centre, axis=1)
    # A tracheal lumen is 1-3 cm across; smaller pockets are noise, larger ones are lung.
    plausible = (areas >= 50.0) & (areas <= 800.0)
    if not plausible.any():
        return None
    best = int(np.argmin(np.where(plausible, distance, np.inf)))
    # Its darkest voxel, not its first in array order: the seed must pass the strictest sweep
    # threshold whichever way the image is stored.
    lumen = np.where(labels == best + 1, hu, np.inf)
    j, i = np.unravel_index(int(np.argmin(lumen)), lumen.shape)
    return (int(j), int(i))


def grow_airway(hu: np.ndarray, body: np.ndarray, seed: tuple[int, int, int], geometry: ImageGeometry,
                settings: ClassicalSettings) -> tuple[np.ndarray, float]:
    """Grow from ``seed`` with the threshold sweep; stop before the volume jumps (leak control)."""
    voxel_cc = float(np.prod(spacing_kji_mm(geometry))) / 1000.0
    kept: np.ndarray | None = None
    kept_threshold = settings.airway_sweep_hu[0]
    for threshold in settings.airway_sweep_hu:
        region = _connected_to(seed, (hu < threshold) & body)
        volume_cc = region.sum() * voxel_cc
        leaked = volume_cc > settings.airway_max_volume_cc or (
            kept is not None and region.sum() > settings.airway_leak_factor * kept.sum())
        if leaked:
            logger.info("Airway growing leaked at %s HU (%.0f cc); kept %s HU.", threshold, volume_cc, kept_threshold)
            break
        kept, kept_threshold = region, threshold
    if kept is None:
        kept = np.zeros_like(body)
    return kept, kept_threshold


def _connected_to(seed: tuple[int, int, int], mask: np.ndarray) -> np.ndarray:
    # 26-connectivity: partial volume at the carina can leave only diagonal links to the bronchi.
    labels, _ = ndimage.label(mask, structure=np.ones((3, 3, 3), dtype=bool))
    value = labels[seed]
    return labels == value if value else np.zeros_like(mask)


def trachea_above_carina(airway: np.ndarray, geometry: ImageGeometry) -> np.ndarray:
    """The airway down to the first slice where it splits into two (the carina)."""
    labels, _ = ndimage.label(airway, structure=IN_PLANE)
    trachea = np.zeros_like(airway)
    pixel_mm2 = float(np.prod(spacing_kji_mm(geometry)[1:]))
    for k in slices_top_down(geometry):
        sizes = np.bincount(labels[k].ravel())[1:] * pixel_mm2
        branches = int(np.count_nonzero(sizes >= 10.0))
        if branches >= 2:
            break
        if branches == 1:
            trachea[k] = airway[k]
        elif trachea.any():
            break
    return trachea


def segment_airway(hu: np.ndarray, body: np.ndarray, geometry: ImageGeometry,
                   settings: ClassicalSettings) -> Airway | None:
    """Trachea and main bronchi, or None when no tracheal seed is found on the top slices."""
    seed = find_seed(hu, body, geometry, settings)
    if seed is None:
        return None
    airway, threshold = grow_airway(hu, body, seed, geometry, settings)
    if not airway.any():
        return None
    trachea = trachea_above_carina(airway, geometry)
    spacing_ji = spacing_kji_mm(geometry)[1:]
    walled = [dilate_in_plane(lumen, settings.airway_wall_mm, spacing_ji) & body for lumen in (airway, trachea)]
    return Airway(walled[0], walled[1], threshold)
