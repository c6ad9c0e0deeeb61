"""Lungs (``Lung_L``, ``Lung_R`` and ``Lungs``): low-density regions inside the body outline.

Components that reach the body surface or are small (bowel and stomach gas) are dropped, the
grown airway is removed. Each connected part takes the side of the mid-sagittal plane it lies on
(:mod:`.midline`: patient left is +x in LPS, from the geometry, never from array order or component
order); only a part spreading across the plane, two lungs touching at the junction, is split.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from ...ct.model import ImageGeometry
from ..selection import REASON_NOT_IN_FIELD_OF_VIEW
from .midline import Midline, Side, estimate_midline, side_of, voxel_x_mm
from .morphology import FACES, IN_PLANE, fill_holes_in_plane, shift_step
from .orientation import spacing_kji_mm
from .settings import ClassicalSettings

logger = logging.getLogger(__name__)

#: Give up splitting fused lungs after this many in-plane erosions.
MAX_SPLIT_EROSIONS = 12
#: A connected part with at least this share of its voxels on each side of the plane is two lungs.
STRADDLE_SHARE = 0.2
#: Bowel and stomach gas is mostly pure air; lung parenchyma (vessels, partial volume) rarely is.
PURE_AIR_HU = -950.0
GAS_AIR_SHARE = 0.15
#: Above this volume an air region is lung even when mostly pure air (emphysema, bullae).
GAS_MAX_CC = 400.0
#: A part centred on the midline narrower than this (left to right) is airway or oesophagus, not lungs.
MIN_TWO_LUNG_WIDTH_MM = 60.0
#: A body reaching less than this from the plane toward a side does not show that side's lung.
MIN_REACH_MM = 60.0


@dataclass(frozen=True)
class Lungs:
    """Bool (k, j, i) masks of each lung; either may be empty, with the reason in ``missing``."""

    left: np.ndarray
    right: np.ndarray
    missing: dict[str, str] = field(default_factory=dict)

    @property
    def both(self) -> np.ndarray:
        return self.left | self.right


def lung_candidates(hu: np.ndarray, body: np.ndarray, geometry: ImageGeometry,
                    settings: ClassicalSettings) -> np.ndarray:
    """Large air-filled components enclosed by the body (airway still attached).

    Components reaching the skin are outside air; the image border is not skin, so a lung cut by
    a cropped field of view is kept. Gas in bowel and stomach (mostly pure air, unlike lung
    parenchyma with its vessels) and small pockets are dropped.
    """
    air = (hu <= settings.lung_threshold_hu) & body
    labels, count = ndimage.label(air, structure=FACES)
    if count == 0:
        return air
    inner = np.pad(body, ((0, 0), (1, 1), (1, 1)), constant_values=True)  # the image border is not skin
    surface = body & ~shift_step(inner, square=False, erode=True)[:, 1:-1, 1:-1]
    touching = np.zeros(count + 1, dtype=bool)
    touching[np.unique(labels[surface])] = True
    sizes = np.bincount(labels[air], minlength=count + 1).astype(float)
    pure_air = np.bincount(labels[air & (hu <= PURE_AIR_HU)], minlength=count + 1)
    voxel_cc = float(np.prod(spacing_kji_mm(geometry))) / 1000.0
    gas = (pure_air > GAS_AIR_SHARE * sizes) & (sizes * voxel_cc < GAS_MAX_CC)
    sizes[0] = 0
    sizes[touching | gas] = 0
    floor = max(settings.lung_min_fraction * sizes.max(), settings.lung_min_volume_cc / voxel_cc)
    keep = sizes >= floor
    keep[0] = False
    return keep[labels]


def split_left_right(lungs: np.ndarray, geometry: ImageGeometry, midline: Midline) -> tuple[np.ndarray, np.ndarray]:
    """Left and right lung by where each connected part lies relative to the mid-sagittal plane.

    A connected part lying mostly on one side is one lung (never given two sides, whatever
    tumour, collapse or fissure splits it into pieces). A part spreading well across the plane is
    two lungs touching at a junction: it is split where erosion separates it, else at the plane.
    """
    left, right = np.zeros_like(lungs), np.zeros_like(lungs)
    labels, count = ndimage.label(lungs, structure=FACES)
    if count == 0:
        return left, right
    k, j, i = np.nonzero(labels)
    part = labels[k, j, i]
    on_left = (voxel_x_mm(geometry, k, j, i) - midline.x_mm[k]) > 0
    sizes = np.bincount(part, minlength=count + 1)
    left_share = np.bincount(part, weights=on_left, minlength=count + 1) / np.maximum(sizes, 1)
    for label in range(1, count + 1):
        share = float(left_share[label])
        straddles = min(share, 1.0 - share) >= STRADDLE_SHARE
        if straddles and _width_mm(labels == label, geometry) < MIN_TWO_LUNG_WIDTH_MM:
            continue  # a narrow air column on the midline: pharynx, trachea, oesophagus
        if straddles and midline.reliable:
            piece_left, piece_right = _split_junction(labels == label, geometry, midline)
            left |= piece_left
            right |= piece_right
        else:
            side = _majority(share, midline)
            (left if side is Side.LEFT else right)[labels == label] = True
    return left, right


def _width_mm(part: np.ndarray, geometry: ImageGeometry) -> float:
    k, j, i = np.nonzero(part)
    x = voxel_x_mm(geometry, k, j, i)
    return float(x.max() - x.min())


def _majority(left_share: float, midline: Midline) -> Side:
    """The side of a part; across an unreliable plane (cut body), the side the field of view keeps."""
    if not midline.reliable and min(left_share, 1.0 - left_share) >= STRADDLE_SHARE and len(midline.cut_sides) == 1:
        return next(iter(midline.cut_sides)).opposite
    return Side.LEFT if left_share >= 0.5 else Side.RIGHT


def _split_junction(part: np.ndarray, geometry: ImageGeometry, midline: Midline) -> tuple[np.ndarray, np.ndarray]:
    """Two touching lungs: separate by erosion and regrow; if that fails, cut at the plane."""
    seeds, count = _two_seeds(part)
    if count == 2:
        grown = _grow_back(seeds, part)
        first, second = grown == 1, grown == 2
        sides = (side_of(first, geometry, midline), side_of(second, geometry, midline))
        if sides[0] is not None and sides[1] is not None and sides[0] != sides[1]:
            unassigned = part & (grown == 0)
            first_left = sides[0] is Side.LEFT
            left, right = (first, second) if first_left else (second, first)
            return _cut_at_plane(unassigned, geometry, midline, left, right)
    logger.info("Touching lungs not separated by erosion; cut at the mid-sagittal plane.")
    return _cut_at_plane(part, geometry, midline, np.zeros_like(part), np.zeros_like(part))


def _cut_at_plane(part: np.ndarray, geometry: ImageGeometry, midline: Midline, left: np.ndarray,
                  right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k, j, i = np.nonzero(part)
    on_left = (voxel_x_mm(geometry, k, j, i) - midline.x_mm[k]) > 0
    left, right = left.copy(), right.copy()
    left[k[on_left], j[on_left], i[on_left]] = True
    right[k[~on_left], j[~on_left], i[~on_left]] = True
    return left, right


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


def segment_lungs(hu: np.ndarray, body: np.ndarray, airway: np.ndarray | None, geometry: ImageGeometry,
                  settings: ClassicalSettings, midline: Midline | None = None) -> Lungs:
    """Left and right lung without trachea and main bronchi; vessels inside are filled per slice.

    ``midline`` defaults to the body centre; a side without lung is reported in ``missing``
    ("not in the field of view" when the image does not reach that side of the patient).
    """
    midline = midline or estimate_midline(body, geometry)
    candidates = lung_candidates(hu, body, geometry, settings)
    if airway is not None:
        candidates &= ~airway
    left, right = split_left_right(candidates, geometry, midline)
    max_hole = int(settings.lung_max_hole_mm2 / float(np.prod(spacing_kji_mm(geometry)[1:])))
    left, right = (fill_holes_in_plane(m, max_hole) for m in (left, right))
    if airway is not None:
        left, right = left & ~airway, right & ~airway
    return Lungs(left, right, _missing_reasons(left, right, body, geometry, midline))


def _missing_reasons(left: np.ndarray, right: np.ndarray, body: np.ndarray, geometry: ImageGeometry,
                     midline: Midline) -> dict[str, str]:
    if not left.any() and not right.any():
        return {}
    missing = {}
    for name, mask, side in (("Lung_L", left, Side.LEFT), ("Lung_R", right, Side.RIGHT)):
        if mask.any():
            continue
        if side in midline.cut_sides or _reach_mm(body, geometry, midline, side) < MIN_REACH_MM:
            missing[name] = f"{REASON_NOT_IN_FIELD_OF_VIEW}: the image does not reach the patient's {side.word} side"
        else:
            missing[name] = f"no lung found on the patient's {side.word} side (collapsed, removed or filled?)"
    return missing


def _reach_mm(body: np.ndarray, geometry: ImageGeometry, midline: Midline, side: Side) -> float:
    """How far the body extends from the plane toward ``side`` (mm), from its extreme image columns/rows."""
    x_axis = int(np.argmax(np.abs(geometry.direction_matrix[0, :2])))  # 0: columns (i), 1: rows (j)
    present = np.flatnonzero(body.any(axis=(0, 1) if x_axis == 0 else (0, 2)))
    if present.size == 0:
        return 0.0
    ends = present[[0, -1]].astype(float)
    zeros = np.zeros(2)
    i, j = (ends, zeros) if x_axis == 0 else (zeros, ends)
    offsets = voxel_x_mm(geometry, zeros, j, i) - float(np.median(midline.x_mm))
    return float(offsets.max() if side is Side.LEFT else -offsets.min())
