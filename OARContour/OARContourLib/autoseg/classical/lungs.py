"""Lungs (``Lung_L``, ``Lung_R`` and ``Lungs``): low-density regions inside the body outline.

Components that reach the body surface or are small (bowel and stomach gas) are dropped, the
grown airway is removed, and the lungs are split by connected components, eroding while they are
fused. Left is patient left, +x in LPS, read from the geometry and never from the array order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ...ct.model import ImageGeometry
from .morphology import FACES, IN_PLANE, fill_holes_in_plane
from .orientation import kji_to_lps, spacing_kji_mm
from .settings import ClassicalSettings

logger = logging.getLogger(__name__)

#: Give up splitting fused lungs after this many in-plane erosions.
MAX_SPLIT_EROSIONS = 12


@dataclass(frozen=True)
class Lungs:
    """Bool (k, j, i) masks of each lung; either may be empty when only one lung is found."""

    left: np.ndarray
    right: np.ndarray

    @property
    def both(self) -> np.ndarray:
        return self.left | self.right


def lung_candidates(hu: np.ndarray, body: np.ndarray, geometry: ImageGeometry,
                    settings: ClassicalSettings) -> np.ndarray:
    """Large air-filled components enclosed by the body (airway still attached)."""
    air = (hu <= settings.lung_threshold_hu) & body
    labels, count = ndimage.label(air, structure=FACES)
    if count == 0:
        return air
    surface = body & ~ndimage.binary_erosion(body, structure=IN_PLANE)
    touching = np.zeros(count + 1, dtype=bool)
    touching[np.unique(labels[surface])] = True
    sizes = np.bincount(labels.ravel(), minlength=count + 1).astype(float)
    sizes[0] = 0
    sizes[touching] = 0
    voxel_cc = float(np.prod(spacing_kji_mm(geometry))) / 1000.0
    floor = max(settings.lung_min_fraction * sizes.max(), settings.lung_min_volume_cc / voxel_cc)
    keep = sizes >= floor
    keep[0] = False
    return keep[labels]


def split_left_right(lungs: np.ndarray, geometry: ImageGeometry, midline_x_mm: float) -> Lungs:
    """Separate the lungs into two components and name them by their LPS x.

    A lung that cannot be split (one lung only, e.g. after pneumonectomy) is named by its side of
    ``midline_x_mm``.
    """
    seeds, count = _two_seeds(lungs)
    if count < 2:
        logger.warning("Could not separate the lungs; assigning the single component by side.")
        return _by_side(lungs, np.zeros_like(lungs), geometry, midline_x_mm)
    grown = _grow_back(seeds, lungs)
    sides = [centroid_x_mm(grown == label, geometry) - midline_x_mm for label in (1, 2)]
    if sides[0] * sides[1] > 0:
        # Both parts on one side: erosion split one lung (e.g. its lobes), not left from right.
        logger.warning("Only one lung found; naming it by its side of the midline.")
        return _by_side(lungs, np.zeros_like(lungs), geometry, midline_x_mm)
    return _by_side(grown == 1, grown == 2, geometry, midline_x_mm)


def _two_seeds(lungs: np.ndarray) -> tuple[np.ndarray, int]:
    """Label image with the two largest components, eroding in-plane while they are fused."""
    current = lungs
    for _ in range(MAX_SPLIT_EROSIONS + 1):
        labels, count = ndimage.label(current, structure=FACES)
        if count >= 2:
            sizes = np.bincount(labels.ravel())
            sizes[0] = 0
            order = np.argsort(sizes)[::-1]
            if sizes[order[1]] >= 0.1 * sizes[order[0]]:
                seeds = np.zeros(lungs.shape, dtype=np.uint8)
                seeds[labels == order[0]] = 1
                seeds[labels == order[1]] = 2
                return seeds, 2
        current = ndimage.binary_erosion(current, structure=IN_PLANE)
        if not current.any():
            break
    return np.zeros(lungs.shape, dtype=np.uint8), 1


def _grow_back(seeds: np.ndarray, lungs: np.ndarray) -> np.ndarray:
    """Each lung voxel takes the label of the nearest seed (geodesic growth inside ``lungs``)."""
    labels = seeds.copy()
    while True:
        unassigned = lungs & (labels == 0)
        if not unassigned.any():
            return labels
        grown = ndimage.grey_dilation(labels, footprint=IN_PLANE | FACES)
        step = unassigned & (grown > 0)
        if not step.any():
            return labels  # remaining voxels are not connected to either seed
        labels[step] = grown[step]


def _by_side(first: np.ndarray, second: np.ndarray, geometry: ImageGeometry, midline_x_mm: float) -> Lungs:
    """Name two masks left and right by the LPS x of their centroids (+x is patient left)."""
    if not first.any():
        return Lungs(first, second)
    reference_x = centroid_x_mm(second, geometry) if second.any() else midline_x_mm
    return Lungs(first, second) if centroid_x_mm(first, geometry) > reference_x else Lungs(second, first)


def centroid_x_mm(mask: np.ndarray, geometry: ImageGeometry) -> float:
    """LPS x (patient left is +x) of the centroid of ``mask``."""
    return float(kji_to_lps(geometry, np.array([ndimage.center_of_mass(mask)]))[0, 0])


def segment_lungs(hu: np.ndarray, body: np.ndarray, airway: np.ndarray | None, geometry: ImageGeometry,
                  settings: ClassicalSettings) -> Lungs:
    """Left and right lung without trachea and main bronchi; vessels inside are filled per slice."""
    candidates = lung_candidates(hu, body, geometry, settings)
    if airway is not None:
        candidates &= ~airway
    split = split_left_right(candidates, geometry, centroid_x_mm(body, geometry))
    max_hole = int(settings.lung_max_hole_mm2 / float(np.prod(spacing_kji_mm(geometry)[1:])))
    left, right = (fill_holes_in_plane(m, max_hole) for m in (split.left, split.right))
    if airway is not None:
        left, right = left & ~airway, right & ~airway
    return Lungs(left, right)
