"""External (TG-263 ``Body``): the patient's outline without couch or positioning devices.

Threshold, in-plane opening to cut thin bridges to the couch, keep the patient's components (the
trunk and any large separate part such as arms beside the body, but not a wide, thin, horizontal
couch), then 2D per-slice hole filling so that lungs, airway and bowel gas stay inside.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import ndimage

from ...ct.model import ImageGeometry
from .morphology import FACES, dilate_in_plane, fill_holes_in_plane, open_in_plane
from .orientation import spacing_kji_mm
from .settings import ClassicalSettings

logger = logging.getLogger(__name__)

#: A component at least this many times wider (image columns) than thick (image rows) is a table:
#: image rows point to the floor in every patient position, so the couch is always horizontal.
COUCH_ASPECT = 4.0
#: Outside air is about -1000 HU; lung parenchyma, even emphysematous, is denser on average.
OUTSIDE_AIR_HU = -960.0


def dense_tissue(hu: np.ndarray, settings: ClassicalSettings) -> np.ndarray:
    """Voxels denser than air; padding values are far below the threshold and so count as air."""
    return hu > settings.body_threshold_hu


def segment_body(hu: np.ndarray, geometry: ImageGeometry, settings: ClassicalSettings) -> np.ndarray:
    """The ``Body`` mask (bool, k j i); empty when nothing in the image is denser than air."""
    spacing_ji = spacing_kji_mm(geometry)[1:]
    tissue = dense_tissue(hu, settings)
    opened = open_in_plane(tissue, settings.body_opening_mm, spacing_ji)
    patient = patient_components(opened, geometry, settings)
    if not patient.any():
        logger.warning("No tissue above %s HU: Body is empty.", settings.body_threshold_hu)
        return patient
    # Give back the skin detail the opening shaved off; only a thin rim of anything it cut away.
    patient |= tissue & dilate_in_plane(patient, settings.body_opening_mm, spacing_ji)
    edge = closed_at_border(patient, hu)
    return fill_holes_in_plane(patient | edge)


def closed_at_border(body: np.ndarray, hu: np.ndarray) -> np.ndarray:
    """Image-edge pixels that close the body where a cropped field of view cuts through it.

    A lung or bowel cut by the image border is background touching the border, so per-slice hole
    filling would leave it outside the body. Along each image edge, a gap between two body runs
    that is not outside air (mean above :data:`OUTSIDE_AIR_HU`) is inside the patient.
    """
    edge = np.zeros_like(body)
    for index in (np.s_[:, 0, :], np.s_[:, -1, :], np.s_[:, :, 0], np.s_[:, :, -1]):
        line_body, line_hu = body[index], hu[index]
        for k in np.flatnonzero(line_body.sum(axis=1) >= 2):
            present = np.flatnonzero(line_body[k])
            gaps = np.flatnonzero(np.diff(present) > 1)
            for gap in gaps:
                start, stop = present[gap] + 1, present[gap + 1]
                if float(line_hu[k, start:stop].mean()) > OUTSIDE_AIR_HU:
                    edge[index][k, start:stop] = True
    return edge


def patient_components(mask: np.ndarray, geometry: ImageGeometry, settings: ClassicalSettings) -> np.ndarray:
    """The largest non-couch component plus every other large non-couch component."""
    labels, count = ndimage.label(mask, structure=FACES)
    if count == 0:
        return np.zeros_like(mask)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    sizes[0] = 0
    couch = np.array([False] + [is_couch_like(box, geometry) for box in ndimage.find_objects(labels)])
    sizes[couch] = 0
    if couch.any():
        logger.info("Removed %d couch-like component(s) from Body.", int(couch.sum()))
    voxel_cc = float(np.prod(geometry.spacing_mm)) / 1000.0
    floor = max(settings.body_min_part_fraction * sizes.max(), settings.body_min_part_cc / voxel_cc, 1)
    keep = sizes >= floor
    return keep[labels]


def is_couch_like(box: tuple[slice, slice, slice] | None, geometry: ImageGeometry) -> bool:
    """True for a bounding box that is wide and thin in the image plane, as a table top is."""
    if box is None:
        return False
    spacing = spacing_kji_mm(geometry)
    thickness_mm = (box[1].stop - box[1].start) * spacing[1]
    width_mm = (box[2].stop - box[2].start) * spacing[2]
    return width_mm >= COUCH_ASPECT * thickness_mm and width_mm > 200.0
