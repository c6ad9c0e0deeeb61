"""Point an RTSTRUCT drawn on a copy of a CT at the original CT series.

SlicerRT always writes the CT again, with new Series, SOP Instance and Frame of Reference UIDs, and
references its structure set to that copy. The contour coordinates are patient coordinates, so they
stay valid for the original series as long as the copy has the original's grid: same orientation,
spacing and slice positions. Then only the references change: the Frame of Reference, the study and
series chain, and each contour's image, which is found by the contour's plane position along the
slice normal (never by slice index or UID order).
"""

from __future__ import annotations

import logging

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence

from ..ct.model import CTVolume
from ..errors import InputError
from .dataset import image_item, referenced_frame
from .parse import contour_points

logger = logging.getLogger(__name__)

#: A contour matches a slice when its plane lies within this fraction of the slice spacing.
DEFAULT_TOLERANCE_FRACTION = 0.1
#: Grids agree when spacings and slice positions differ by less than this (the copy is written
#: with 6-decimal text, so real copies agree to about 1e-6 mm).
GRID_TOLERANCE_MM = 0.01
ORIENTATION_TOLERANCE = 1e-4


def check_same_grid(original: CTVolume, copy: CTVolume) -> None:
    """Refuse when the CT SlicerRT wrote does not lie exactly on the original CT's grid.

    Raises
    ------
    InputError
        Orientation, pixel spacing, slice count or a slice position differ; the message names which.
    """
    problem = _grid_difference(original, copy)
    if problem:
        raise InputError(
            f"The CT SlicerRT wrote does not match the original CT: {problem}. Its contour coordinates "
            "are only valid for the original series when both share one voxel grid.",
            hint="Remove any transform from the CT node and export again, or send the CT SlicerRT wrote "
                 "(rereference=False).", code="CT_GRID_MISMATCH")


def _grid_difference(original: CTVolume, copy: CTVolume) -> str:
    a, b = original.geometry, copy.geometry
    if not np.allclose(a.direction_matrix[:, :2], b.direction_matrix[:, :2], atol=ORIENTATION_TOLERANCE):
        return "the image orientation differs"
    if not np.allclose(a.spacing_mm[:2], b.spacing_mm[:2], atol=GRID_TOLERANCE_MM):
        return f"pixel spacing {b.spacing_mm[:2]} mm instead of {a.spacing_mm[:2]} mm"
    if a.shape != b.shape:
        return f"{b.shape[0]} slices of {b.shape[1]}x{b.shape[2]} instead of {a.shape[0]} of {a.shape[1]}x{a.shape[2]}"
    ours = np.array([s.image_position_patient for s in original.slices])
    theirs = np.array([s.image_position_patient for s in copy.slices])
    offsets = np.abs(ours - theirs).max(axis=1)
    worst = int(np.argmax(offsets))
    if offsets[worst] > GRID_TOLERANCE_MM:
        return f"slice {worst + 1} lies {offsets[worst]:.3f} mm away from the original slice {worst + 1}"
    return ""


def check_references_copy(ds: Dataset, copy: CTVolume) -> None:
    """Refuse when the structure set was not drawn on ``copy`` (e.g. the wrong folder was given)."""
    frames = {str(item.FrameOfReferenceUID) for item in ds.get("ReferencedFrameOfReferenceSequence", [])}
    if copy.reference.frame_of_reference_uid not in frames:
        raise InputError("The RTSTRUCT does not reference the CT copy it was given "
                         f"(Frame of Reference {', '.join(sorted(frames)) or 'none'}).",
                         hint="Give the CT files SlicerRT wrote in the same export as the RTSTRUCT.")


def rereference(ds: Dataset, ct: CTVolume, tolerance_fraction: float = DEFAULT_TOLERANCE_FRACTION) -> int:
    """Make every reference of ``ds`` point at ``ct`` (edited in place); returns the contours matched.

    Raises
    ------
    InputError
        A contour is not planar along the CT's slice normal, or lies on no CT slice; the message
        names the ROI and the position.
    """
    frame_uid = ct.reference.frame_of_reference_uid
    ds.ReferencedFrameOfReferenceSequence = DicomSequence([referenced_frame(ct)])
    for roi in ds.get("StructureSetROISequence", []):
        roi.ReferencedFrameOfReferenceUID = frame_uid
    ds.FrameOfReferenceUID = frame_uid
    ds.PositionReferenceIndicator = ct.reference.attributes.get("PositionReferenceIndicator", "")
    matcher = _SliceMatcher(ct, tolerance_fraction)
    names = {int(roi.ROINumber): str(roi.ROIName) for roi in ds.get("StructureSetROISequence", [])}
    matched = 0
    for roi_contour in ds.get("ROIContourSequence", []):
        name = names.get(int(roi_contour.ReferencedROINumber), f"ROI {roi_contour.ReferencedROINumber}")
        for contour in roi_contour.get("ContourSequence", []):
            k = matcher.slice_of(contour_points(contour), name)
            contour.ContourImageSequence = DicomSequence([image_item(ct, k)])
            matched += 1
    logger.info("Re-referenced %d contours to CT series with %d slices", matched, len(ct.slices))
    return matched


class _SliceMatcher:
    """Finds the CT slice whose plane holds a contour, by position along the slice normal."""

    def __init__(self, ct: CTVolume, tolerance_fraction: float) -> None:
        direction = ct.geometry.direction_matrix
        self.normal = np.cross(direction[:, 0], direction[:, 1])
        self.positions = np.array([s.position_along_normal_mm for s in ct.slices])
        self.tolerance_mm = tolerance_fraction * ct.geometry.spacing_mm[2]

    def slice_of(self, points: np.ndarray | None, roi_name: str) -> int:
        if points is None:  # what the reader would skip: fewer than 3 points, or unreadable numbers
            raise InputError(f"ROI '{roi_name}' has a contour without 3 usable points.",
                             hint="Export the structures again.")
        along = points @ self.normal
        if float(np.ptp(along)) > self.tolerance_mm:
            raise InputError(f"ROI '{roi_name}': a contour spans {along.min():.2f} to {along.max():.2f} mm along "
                             "the original CT's slice normal, so it lies in no CT slice plane.",
                             hint="The structures were drawn on a differently oriented image; export on this CT.")
        position = float(along.mean())
        k = int(np.argmin(np.abs(self.positions - position)))
        if abs(self.positions[k] - position) > self.tolerance_mm:
            raise InputError(f"ROI '{roi_name}': a contour at {position:.2f} mm along the slice normal matches no "
                             f"slice of the original CT (nearest {self.positions[k]:.2f} mm).",
                             hint="The CT SlicerRT wrote is not the original grid; export with rereference=False.")
        return k
