"""Put contours (LPS millimetres) onto a CT grid: slice index ``k`` and index coordinates ``(i, j)``.

Each contour goes to the slice its Contour Image Sequence names when that slice is in the CT and the
contour lies in its plane; otherwise to the slice nearest its position along the slice normal, if
that is within :data:`SLICE_TOLERANCE_FRACTION` of the slice spacing. Index coordinates come from
that slice's own Image Position and the CT's row and column direction cosines, so any patient
position or image orientation works (no axial or HFS assumption). Contours that cannot be placed
are skipped and reported, one finding per ROI and kind of problem.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..ct.model import CTVolume
from ..findings import Finding
from .parse import ContourItem, ReadCode, finding

logger = logging.getLogger(__name__)

#: A contour belongs to a slice when it lies within this fraction of the slice spacing of its plane.
SLICE_TOLERANCE_FRACTION = 0.25
#: Points further than this from their contour's mean plane make the contour "not planar".
PLANARITY_TOLERANCE_MM = 0.05
#: At most this many z values are listed in one finding.
_LISTED_POSITIONS = 6


@dataclass(frozen=True)
class SliceFrame:
    """The CT's slice planes: positions along the normal, in-plane axes and image UIDs."""

    positions_mm: np.ndarray
    image_positions: np.ndarray
    normal: np.ndarray
    row_step: np.ndarray
    column_step: np.ndarray
    shape: tuple[int, int, int]
    tolerance_mm: float
    slice_by_uid: dict[str, int]

    @classmethod
    def from_ct(cls, ct: CTVolume) -> SliceFrame:
        """The frame of ``ct`` (slices in the volume's k order)."""
        geometry = ct.geometry
        direction = geometry.direction_matrix
        spacing_i, spacing_j, spacing_k = (float(s) for s in geometry.spacing_mm)
        spacing_k = spacing_k if spacing_k > 0 else 1.0
        image_positions = np.array([s.image_position_patient for s in ct.slices], dtype=float)
        return cls(
            # Positions from the Image Positions themselves, along the grid's own k axis.
            positions_mm=image_positions @ direction[:, 2],
            image_positions=image_positions,
            normal=direction[:, 2],
            # Dividing the cosine by the spacing turns a projection in mm into an index.
            row_step=direction[:, 0] / spacing_i,
            column_step=direction[:, 1] / spacing_j,
            shape=tuple(int(n) for n in geometry.shape),  # type: ignore[arg-type]
            tolerance_mm=SLICE_TOLERANCE_FRACTION * spacing_k,
            slice_by_uid={s.sop_instance_uid: k for k, s in enumerate(ct.slices) if s.sop_instance_uid},
        )

    def shown(self, along: np.ndarray) -> tuple[str, np.ndarray]:
        """Positions as messages show them: LPS z for axial slices, else the position along the normal."""
        if abs(self.normal[2]) > 0.999:
            return "z", along * np.sign(self.normal[2])
        return "position along the slice normal", along


@dataclass(frozen=True)
class PlacedContours:
    """Contours of one ROI on the CT grid, packed for :func:`.rasterize.rasterize_packed`."""

    points_ij: np.ndarray
    offsets: np.ndarray
    slice_k: np.ndarray
    skipped: int
    findings: tuple[Finding, ...]

    @property
    def count(self) -> int:
        return len(self.slice_k)


def place_contours(contours: Sequence[ContourItem], frame: SliceFrame, roi_name: str) -> PlacedContours:
    """Slice index and ``(i, j)`` index coordinates of every contour that lies on a CT slice.

    Parameters
    ----------
    contours
        Closed planar contours of one ROI, LPS millimetres.
    frame
        The CT's slices (see :meth:`SliceFrame.from_ct`).
    roi_name
        For the findings.

    Returns
    -------
    PlacedContours
        Packed index coordinates of the placed contours, the number skipped and one warning per
        kind of problem (not planar, between slices, outside the CT, clipped, wrong image UID).
    """
    if not contours:
        return PlacedContours(np.zeros((0, 2)), np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64), 0, ())
    points = np.concatenate([c.points_lps for c in contours])
    offsets = np.zeros(len(contours) + 1, dtype=np.int64)
    np.cumsum([len(c.points_lps) for c in contours], out=offsets[1:])
    along = points @ frame.normal
    centre = np.add.reduceat(along, offsets[:-1]) / np.diff(offsets)
    spread = np.maximum.reduceat(np.abs(along - np.repeat(centre, np.diff(offsets))), offsets[:-1])
    slice_k, uid_mismatch = _assign_slices(contours, centre, frame)
    problems = _Problems(roi_name, frame)
    problems.add(ReadCode.REFERENCED_IMAGE_MISMATCH, centre[uid_mismatch], "placed by their position instead")
    placed = slice_k >= 0
    problems.add_unplaced(centre, placed)
    not_planar = (spread > PLANARITY_TOLERANCE_MM) & placed
    too_thick = spread > frame.tolerance_mm
    problems.add(ReadCode.CONTOUR_NOT_PLANAR, centre[not_planar], _thick_action(int((too_thick & placed).sum())))
    placed &= ~too_thick
    points_ij = _index_coordinates(points, np.repeat(slice_k, np.diff(offsets)), frame)
    outside, clipped = _in_plane_extent(points_ij, offsets, frame)
    problems.add(ReadCode.CONTOUR_OUTSIDE_CT, centre[outside & placed], "skipped", in_plane=True)
    problems.add(ReadCode.CONTOUR_CLIPPED, centre[clipped & placed & ~outside], "voxels outside the CT are dropped")
    placed &= ~outside
    keep = np.repeat(placed, np.diff(offsets))
    lengths = np.diff(offsets)[placed]
    kept_offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=kept_offsets[1:])
    return PlacedContours(points_ij[keep], kept_offsets, slice_k[placed], int((~placed).sum()), tuple(problems.found))


def _assign_slices(contours: Sequence[ContourItem], centre: np.ndarray,
                   frame: SliceFrame) -> tuple[np.ndarray, np.ndarray]:
    """Slice of each contour (-1: none) and which contours sit off the slice their UID names."""
    nearest = _nearest_slice(centre, frame.positions_mm)
    distance = np.abs(centre - frame.positions_mm[nearest])
    slice_k = np.where(distance <= frame.tolerance_mm, nearest, -1)
    uid_mismatch = np.zeros(len(contours), dtype=bool)
    for index, contour in enumerate(contours):
        named = [frame.slice_by_uid[u] for u in contour.referenced_sop_instance_uids if u in frame.slice_by_uid]
        if not named:
            continue
        if abs(centre[index] - frame.positions_mm[named[0]]) <= frame.tolerance_mm:
            slice_k[index] = named[0]
        else:
            uid_mismatch[index] = True  # trust the coordinates; the UID may be a copy-paste slip
    return slice_k, uid_mismatch


def _nearest_slice(centre: np.ndarray, positions: np.ndarray) -> np.ndarray:
    if len(positions) == 1:
        return np.zeros(len(centre), dtype=np.int64)
    order = np.argsort(positions, kind="stable")  # load_ct sorts already; other callers may not
    ordered = positions[order]
    right = np.clip(np.searchsorted(ordered, centre), 1, len(ordered) - 1)
    left = right - 1
    closer_left = np.abs(centre - ordered[left]) <= np.abs(centre - ordered[right])
    return order[np.where(closer_left, left, right)].astype(np.int64)


def _index_coordinates(points: np.ndarray, point_k: np.ndarray, frame: SliceFrame) -> np.ndarray:
    """``(i, j)`` of each point, projected into the plane of its slice (index 0 for unplaced)."""
    relative = points - frame.image_positions[np.maximum(point_k, 0)]
    return np.column_stack((relative @ frame.row_step, relative @ frame.column_step))


def _in_plane_extent(points_ij: np.ndarray, offsets: np.ndarray, frame: SliceFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per contour: entirely outside the image rectangle; partly outside it."""
    _, n_rows, n_columns = frame.shape
    low = np.minimum.reduceat(points_ij, offsets[:-1], axis=0)
    high = np.maximum.reduceat(points_ij, offsets[:-1], axis=0)
    limit = np.array([n_columns - 0.5, n_rows - 0.5])
    outside = np.any((high < -0.5) | (low > limit), axis=1)
    clipped = np.any((low < -0.5) | (high > limit), axis=1)
    return np.asarray(outside), np.asarray(clipped)


class _Problems:
    """Collects one finding per kind of problem for an ROI, listing the positions involved."""

    def __init__(self, roi_name: str, frame: SliceFrame) -> None:
        self.roi_name = roi_name
        self.frame = frame
        self.found: list[Finding] = []

    def add_unplaced(self, centre: np.ndarray, placed: np.ndarray) -> None:
        first, last = self.frame.positions_mm.min(), self.frame.positions_mm.max()
        tolerance = self.frame.tolerance_mm
        beyond = (~placed) & ((centre < first - tolerance) | (centre > last + tolerance))
        self.add(ReadCode.CONTOUR_OUTSIDE_CT, centre[beyond], "skipped")
        self.add(ReadCode.CONTOUR_BETWEEN_SLICES, centre[(~placed) & ~beyond], "skipped")

    def add(self, code: ReadCode, positions: np.ndarray, action: str, *, in_plane: bool = False) -> None:
        if len(positions) == 0:
            return
        label, shown = self.frame.shown(positions)
        self.found.append(finding(code, f"ROI '{self.roi_name}': {len(positions)} contour(s) at {label} = "
                                  f"{_positions_text(shown)} mm {self._what(code, in_plane)}; {action}.",
                                  roi_name=self.roi_name, hint=_HINTS[code]))
        logger.debug("%s: %s for %d contours", self.roi_name, code.value, len(positions))

    def _what(self, code: ReadCode, in_plane: bool) -> str:
        _, ends = self.frame.shown(np.array([self.frame.positions_mm.min(), self.frame.positions_mm.max()]))
        extent = f"{ends.min():.2f} to {ends.max():.2f} mm"
        return {
            ReadCode.CONTOUR_OUTSIDE_CT: ("lie entirely outside the image area" if in_plane
                                          else f"lie beyond the CT slices ({extent})"),
            ReadCode.CONTOUR_BETWEEN_SLICES: (f"lie more than {self.frame.tolerance_mm:.2f} mm from every "
                                              f"CT slice ({extent})"),
            ReadCode.CONTOUR_NOT_PLANAR: "have points off their plane",
            ReadCode.CONTOUR_CLIPPED: "extend beyond the image area",
            ReadCode.REFERENCED_IMAGE_MISMATCH: "do not lie on the CT image their Contour Image Sequence names",
        }[code]


def _thick_action(skipped: int) -> str:
    if skipped:
        return f"{skipped} of them span more than the slice tolerance and were skipped, the rest placed"
    return "placed on their slice"


def _positions_text(positions: np.ndarray) -> str:
    values = np.unique(np.round(positions, 2))
    listed = ", ".join(f"{v:.2f}" for v in values[:_LISTED_POSITIONS])
    return listed + (f", ... ({len(values)} positions)" if len(values) > _LISTED_POSITIONS else "")


_HINTS = {
    ReadCode.CONTOUR_OUTSIDE_CT: "Give the complete CT series the structure set was drawn on.",
    ReadCode.CONTOUR_BETWEEN_SLICES: "The CT slices do not match the contour planes: check the CT series.",
    ReadCode.CONTOUR_NOT_PLANAR: "Contours should lie in one CT slice plane; re-export from the TPS.",
    ReadCode.CONTOUR_CLIPPED: "Voxels outside the CT are dropped; check the CT field of view.",
    ReadCode.REFERENCED_IMAGE_MISMATCH: "Placed by position instead; check the exporting system.",
}
