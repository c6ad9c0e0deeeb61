"""SpinalCanal: the low-density lumen enclosed by the vertebral bone ring near the posterior midline.

Per slice, bone is closed (bridging gaps in the ring) and its enclosed holes become candidates (vectorised over all
slices with an in-plane structuring element). Candidates of plausible area and density are scored
by their distance from the body's posterior midline, then linked across slices by staying near the
median canal position.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import ndimage

from ...ct.model import ImageGeometry
from .midline import cut_sides
from .morphology import IN_PLANE, close_in_plane, fill_holes_in_plane
from .orientation import crop_geometry, in_plane_lps, spacing_kji_mm
from .settings import ClassicalSettings

logger = logging.getLogger(__name__)

#: A candidate further than this from the median canal position belongs to another structure.
MAX_OFFSET_MM = 20.0
#: In the neck, thick posterior muscles and the shoulders put the body centre behind the canal: the
#: canal may lie this far in front of the body centre (in the trunk it lies well behind it).
MAX_ANTERIOR_MM = 25.0
#: In a cropped scan the canal, when in the image, runs through most of it.
CROPPED_MIN_COVERAGE = 0.5
#: The canal is searched within this distance of the body centre, left to right.
MIDLINE_HALF_WIDTH_MM = 60.0


def canal_candidates(hu: np.ndarray, body: np.ndarray, geometry: ImageGeometry, closing_mm: float,
                     settings: ClassicalSettings) -> tuple[np.ndarray, int]:
    """Label image (in-plane connectivity) of low-density holes enclosed by bone."""
    spacing_ji = spacing_kji_mm(geometry)[1:]
    bone = (hu > settings.canal_bone_threshold_hu) & body
    ring = close_in_plane(bone, closing_mm, spacing_ji)
    holes = fill_holes_in_plane(ring) & ~ring
    labels, count = ndimage.label(holes, structure=IN_PLANE)
    return labels, count


def _features(hu: np.ndarray, labels: np.ndarray, count: int, geometry: ImageGeometry) -> dict[str, np.ndarray]:
    # Candidates are few, small holes: sums over their voxels beat ndimage's per-label passes.
    k, j, i = np.nonzero(labels)
    label = labels[k, j, i]
    voxels = np.maximum(np.bincount(label, minlength=count + 1)[1:].astype(float), 1.0)

    def mean(values: np.ndarray) -> np.ndarray:
        return np.bincount(label, weights=values, minlength=count + 1)[1:] / voxels

    centre_k, centre_j, centre_i = mean(k.astype(float)), mean(j.astype(float)), mean(i.astype(float))
    xy = in_plane_lps(geometry, centre_j, centre_i, centre_k)
    return {"area_mm2": voxels * float(np.prod(spacing_kji_mm(geometry)[1:])),
            "mean_hu": mean(hu[k, j, i].astype(float)),
            "k": np.rint(centre_k).astype(int), "x": xy[:, 0], "y": xy[:, 1]}


def _body_midline(body: np.ndarray, geometry: ImageGeometry) -> np.ndarray:
    """LPS (x, y) of the body centroid of each slice (NaN on slices without body)."""
    rows = body.sum(axis=2, dtype=np.int64)  # (k, j): voxels per row
    counts = rows.sum(axis=1).astype(float)
    columns = body.sum(axis=1, dtype=np.int64)  # (k, i)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_j = rows @ np.arange(body.shape[1], dtype=float) / counts
        mean_i = columns @ np.arange(body.shape[2], dtype=float) / counts
    return in_plane_lps(geometry, mean_j, mean_i, np.arange(body.shape[0]))


def choose_per_slice(features: dict[str, np.ndarray], midline: np.ndarray, settings: ClassicalSettings,
                     max_dx_mm: float = 40.0, max_anterior_mm: float = MAX_ANTERIOR_MM) -> np.ndarray:
    """Indices (0-based) of the chosen candidate per slice, linked around the median position."""
    low, high = settings.canal_area_mm2
    valid = (features["area_mm2"] >= low) & (features["area_mm2"] <= high) & (features["mean_hu"] <= settings.canal_max_mean_hu)
    # Posterior is +y in LPS: the canal lies behind (or in the neck a little in front of) the body centre.
    dx = features["x"] - midline[features["k"], 0]
    dy = features["y"] - midline[features["k"], 1]
    valid &= (dy > -max_anterior_mm) & (np.abs(dx) < max_dx_mm)
    first = _best_per_slice(valid, np.abs(dx), features["k"])
    if first.size == 0:
        return first
    centre_x, centre_dy = np.median(dx[first]), np.median(dy[first])
    offset = np.hypot(dx - centre_x, dy - centre_dy)
    return _best_per_slice(valid & (offset < MAX_OFFSET_MM), offset, features["k"])


def _best_per_slice(valid: np.ndarray, cost: np.ndarray, k: np.ndarray) -> np.ndarray:
    candidates = np.flatnonzero(valid)
    if candidates.size == 0:
        return candidates
    order = candidates[np.lexsort((cost[candidates], k[candidates]))]
    _, first = np.unique(k[order], return_index=True)
    return order[first]


def segment_spinal_canal(hu: np.ndarray, body: np.ndarray, geometry: ImageGeometry,
                         settings: ClassicalSettings) -> np.ndarray:
    """The SpinalCanal mask (bool, k j i); empty when no bone ring encloses a lumen.

    The ring is first closed with the smallest radius (most faithful lumen); slices still without a
    canal are retried with larger radii, which bridge the gaps of thin real vertebral rings.
    """
    canal = np.zeros_like(body)
    if not body.any():
        return canal
    midline = _body_midline(body, geometry)
    # A body cut by the image border has its centre off the midline: search the whole width.
    cropped = bool(cut_sides(body, geometry))
    box = (slice(None), slice(None), slice(None)) if cropped else midline_box(body, geometry)
    # Searching the whole width admits marrow cavities: behind the body centre only, and see below.
    limits = (np.inf, 0.0) if cropped else (40.0, MAX_ANTERIOR_MM)
    box_geometry = crop_geometry(geometry, box)
    found_in_box = canal[box]
    for closing_mm in settings.canal_bone_closings_mm:
        missing = ~found_in_box.any(axis=(1, 2))
        if not missing.any():
            break
        found = _canal_with_closing(hu[box], body[box], box_geometry, midline, closing_mm, settings, limits)
        found_in_box[missing] = found[missing]
    bridge_gaps(canal, hu, settings, spacing_kji_mm(geometry)[0])
    if cropped and canal.any(axis=(1, 2)).sum() < CROPPED_MIN_COVERAGE * body.any(axis=(1, 2)).sum():
        logger.info("Lumen on too few slices of a cropped scan to be the spinal canal (a marrow cavity?).")
        canal[:] = False
    logger.info("SpinalCanal found on %d of %d slices.", int(canal.any(axis=(1, 2)).sum()), body.shape[0])
    return canal


def _canal_with_closing(hu: np.ndarray, body: np.ndarray, geometry: ImageGeometry, midline: np.ndarray,
                        closing_mm: float, settings: ClassicalSettings, limits: tuple[float, float]) -> np.ndarray:
    labels, count = canal_candidates(hu, body, geometry, closing_mm, settings)
    if count == 0:
        return np.zeros_like(body)
    chosen = choose_per_slice(_features(hu, labels, count, geometry), midline, settings, *limits)
    keep = np.zeros(count + 1, dtype=bool)
    keep[chosen + 1] = True
    return keep[labels]


def midline_box(body: np.ndarray, geometry: ImageGeometry) -> tuple[slice, slice, slice]:
    """All slices, cropped to ``MIDLINE_HALF_WIDTH_MM`` either side of the body centre left-right."""
    centre = np.array(ndimage.center_of_mass(body.any(axis=0)))
    # The in-plane image axis closest to patient left-right (column i for axial scans, any position).
    x_weight = np.abs(geometry.direction_matrix[0, :2])
    axis = 2 if x_weight[0] >= x_weight[1] else 1
    half = int(np.ceil(MIDLINE_HALF_WIDTH_MM / spacing_kji_mm(geometry)[axis]))
    middle = int(round(centre[axis - 1]))
    box = [slice(None), slice(None), slice(None)]
    box[axis] = slice(max(middle - half, 0), min(middle + half + 1, body.shape[axis]))
    return (box[0], box[1], box[2])


def bridge_gaps(canal: np.ndarray, hu: np.ndarray, settings: ClassicalSettings, slice_mm: float = 0.0) -> None:
    """Link across slices: fill short interior gaps with the nearest canal slice's non-bone voxels.

    Intervertebral levels and partial volume leave some rings open; the lumen barely moves over a
    few millimetres, so the neighbouring lumen minus this slice's bone is a fair estimate.
    """
    found = np.flatnonzero(canal.any(axis=(1, 2)))
    by_mm = int(settings.canal_max_gap_mm // slice_mm) if slice_mm > 0 else 0
    max_gap = max(settings.canal_max_gap_slices, by_mm)
    for below, above in zip(found[:-1], found[1:]):
        if not 1 < above - below <= max_gap + 1:
            continue
        for k in range(below + 1, above):
            # Halfway between two canal slices both count, so the result ignores the slice order.
            if k - below == above - k:
                nearest = canal[below] | canal[above]
            else:
                nearest = canal[below] if k - below < above - k else canal[above]
            canal[k] = nearest & (hu[k] <= settings.canal_bone_threshold_hu)
    _extend_to_scan_ends(canal, hu, found, max_gap // 2, settings)


def _extend_to_scan_ends(canal: np.ndarray, hu: np.ndarray, found: np.ndarray, reach: int,
                         settings: ClassicalSettings) -> None:
    """Continue the canal to the first and last slice when it stops within ``reach`` slices of them.

    The spine does not end at the edge of a scan: a ring left open there by partial volume is
    still the canal. Far from the edge the canal may really end (skull base, sacrum) and is kept.
    """
    if found.size == 0:
        return
    first, last = int(found[0]), int(found[-1])
    if 0 < first <= reach:
        for k in range(first):
            canal[k] = canal[first] & (hu[k] <= settings.canal_bone_threshold_hu)
    if 0 < canal.shape[0] - 1 - last <= reach:
        for k in range(last + 1, canal.shape[0]):
            canal[k] = canal[last] & (hu[k] <= settings.canal_bone_threshold_hu)
