"""Checks that decide whether an image series forms one regular, referenceable voxel grid.

Every finding is recorded as a :class:`~.problems.Problem`; nothing is silently repaired. The
slices are ordered by their position along the slice normal, never by file name or Instance
Number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..dicom_compat import decoder_problem
from ..findings import Severity
from .damage import check_damage
from .model import ImageGeometry
from .problems import GRID_BREAKING, ProblemCode, ProblemList
from .scan import FileHeader, SeriesFiles

#: Two slices closer than this along the normal are duplicates.
DUPLICATE_TOLERANCE_MM = 0.01
#: In-plane drift between first and last slice above this means a tilted or sheared stack.
SHEAR_TOLERANCE_MM = 0.05
#: A spacing step this much larger than nominal is a missing slice.
GAP_FACTOR = 1.5
#: Relative spacing deviation tolerated as scanner rounding.
SPACING_TOLERANCE = 0.02
ORIENTATION_TOLERANCE = 1e-4
UID_KEYWORDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID", "FrameOfReferenceUID")


@dataclass(frozen=True)
class SeriesLayout:
    """An image series' slices in order along the normal, and the grid they form if they do."""

    headers: tuple[FileHeader, ...]
    positions_mm: tuple[float, ...]
    geometry: ImageGeometry | None


def analyse_series(series: SeriesFiles, problems: ProblemList) -> SeriesLayout:
    """Check one image series and, when nothing breaks the grid, compute its geometry."""
    headers = series.image_headers
    uid = series.series_uid
    before = len(problems.items)
    _check_uids(headers, uid, problems)
    _check_compression(headers, uid, problems)
    if not check_damage(headers, uid, problems, series.headers):
        return SeriesLayout(tuple(headers), (), None)
    orientation = _common_orientation(headers, uid, problems)
    if orientation is None:
        return SeriesLayout(tuple(headers), (), None)
    normal = np.cross(orientation[:3], orientation[3:])
    keyed = sorted(((float(normal @ _ipp(h)), h) for h in headers), key=lambda item: item[0])
    positions = np.array([p for p, _ in keyed])
    ordered = tuple(h for _, h in keyed)
    spacing_k = _check_positions(ordered, positions, normal, uid, problems)
    new = problems.items[before:]
    if spacing_k is None or any(p.code in GRID_BREAKING and p.severity is Severity.ERROR for p in new):
        return SeriesLayout(ordered, tuple(positions), None)
    return SeriesLayout(ordered, tuple(positions), _geometry(ordered, orientation, normal, spacing_k))


def _ipp(header: FileHeader) -> np.ndarray:
    return np.asarray(header.floats("ImagePositionPatient"), dtype=float)


def _names(headers: Sequence[FileHeader]) -> list[str]:
    return [str(h.path) for h in headers]


def _check_uids(headers: Sequence[FileHeader], uid: str, problems: ProblemList) -> None:
    for keyword in UID_KEYWORDS:
        empty = [h for h in headers if not h.text(keyword)]
        if empty:
            problems.add(
                Severity.ERROR, ProblemCode.MISSING_UID,
                f"{keyword} is empty in {len(empty)} of {len(headers)} files: no RTSTRUCT can reference "
                "this series (typical of anonymised data).",
                files=_names(empty), series_uid=uid,
                hint="Use the original series from the PACS or planning system, not an anonymised copy.",
            )


def _check_compression(headers: Sequence[FileHeader], uid: str, problems: ProblemList) -> None:
    for syntax in sorted({h.transfer_syntax_uid for h in headers} - {""}):
        message = decoder_problem(syntax)
        if message:
            affected = [h for h in headers if h.transfer_syntax_uid == syntax]
            problems.add(
                Severity.ERROR, ProblemCode.UNSUPPORTED_COMPRESSION, message[0],
                files=_names(affected), series_uid=uid, hint=message[1],
            )


def _common_orientation(headers: Sequence[FileHeader], uid: str, problems: ProblemList) -> np.ndarray | None:
    """The shared ImageOrientationPatient, or None after reporting why there is none."""
    missing = [h for h in headers if h.floats("ImageOrientationPatient") is None or h.floats("ImagePositionPatient") is None
               or h.floats("PixelSpacing") is None]
    if missing:
        problems.add(Severity.ERROR, ProblemCode.INCONSISTENT_GEOMETRY,
                     f"{len(missing)} slices lack ImageOrientationPatient, ImagePositionPatient or PixelSpacing.",
                     files=_names(missing), series_uid=uid, hint="The series cannot be placed in patient space.")
        return None
    reference = headers[0]
    for keyword, label in (("ImageOrientationPatient", "orientation"), ("PixelSpacing", "pixel spacing"),
                           ("Rows", "matrix size"), ("Columns", "matrix size")):
        first = np.asarray(reference.floats(keyword))
        odd = [h for h in headers if not np.allclose(np.asarray(h.floats(keyword)), first, atol=ORIENTATION_TOLERANCE)]
        if odd:
            problems.add(Severity.ERROR, ProblemCode.INCONSISTENT_GEOMETRY,
                         f"Mixed {label} in one series: {len(odd)} slices differ from {reference.path.name}.",
                         files=_names(odd), series_uid=uid,
                         hint="Separate the reconstructions into their own folders or pick one with --series.")
            return None
    orientation = np.asarray(reference.floats("ImageOrientationPatient"), dtype=float)
    return np.concatenate([orientation[:3] / np.linalg.norm(orientation[:3]), orientation[3:] / np.linalg.norm(orientation[3:])])


def _check_positions(headers: Sequence[FileHeader], positions: np.ndarray, normal: np.ndarray, uid: str,
                     problems: ProblemList) -> float | None:
    """Report duplicates, tilt, gaps and uneven steps; return the slice spacing when uniform."""
    if len(headers) == 1:
        return _single_slice_spacing(headers[0], uid, problems)
    steps = np.diff(positions)
    duplicate_idx = np.flatnonzero(steps < DUPLICATE_TOLERANCE_MM)
    if duplicate_idx.size:
        files = sorted({str(headers[i].path) for i in duplicate_idx.tolist()} | {str(headers[i + 1].path) for i in duplicate_idx.tolist()})
        problems.add(Severity.ERROR, ProblemCode.DUPLICATE_POSITION,
                     f"{duplicate_idx.size} slice positions occur twice (e.g. at {positions[duplicate_idx[0]]:.2f} mm along the normal).",
                     files=files, series_uid=uid,
                     hint="Remove repeated or second-reconstruction files, or choose one series with --series.")
        return None
    _check_shear(headers, positions, normal, uid, problems)
    return _check_spacing(headers, positions, steps, uid, problems)


def _check_shear(headers: Sequence[FileHeader], positions: np.ndarray, normal: np.ndarray, uid: str,
                 problems: ProblemList) -> None:
    offsets = np.array([_ipp(h) - _ipp(headers[0]) for h in headers])
    in_plane = offsets - np.outer(offsets @ normal, normal)
    drift = float(np.linalg.norm(in_plane[-1]))
    if np.max(np.linalg.norm(in_plane, axis=1)) > SHEAR_TOLERANCE_MM:
        angle = math.degrees(math.atan2(drift, abs(positions[-1] - positions[0])))
        tilt = headers[0].text("GantryDetectorTilt") or "not stated"
        problems.add(Severity.ERROR, ProblemCode.GANTRY_TILT,
                     f"Slices are sheared by {angle:.2f} degrees (gantry tilt {tilt}): they do not stack along the "
                     "slice normal, so voxels would be misplaced.",
                     files=[str(headers[0].path), str(headers[-1].path)], series_uid=uid,
                     hint="Resample the series to an untilted grid in the scanner or planning system first.")


def _check_spacing(headers: Sequence[FileHeader], positions: np.ndarray, steps: np.ndarray, uid: str,
                   problems: ProblemList) -> float | None:
    nominal = float(np.median(steps))
    gaps = np.flatnonzero(steps > GAP_FACTOR * nominal)
    for i in gaps.tolist():
        missing = max(1, round(steps[i] / nominal) - 1)
        problems.add(Severity.ERROR, ProblemCode.MISSING_SLICE,
                     f"About {missing} slice(s) missing between {positions[i]:.2f} and {positions[i + 1]:.2f} mm "
                     f"(step {steps[i]:.2f} mm, nominal {nominal:.2f} mm).",
                     files=[str(headers[i].path), str(headers[i + 1].path)], series_uid=uid,
                     hint="Export the complete series again; a partial series cannot be contoured safely.")
    tolerance = SPACING_TOLERANCE * nominal
    uneven = np.flatnonzero((np.abs(steps - nominal) > tolerance) & (steps <= GAP_FACTOR * nominal))
    if uneven.size:
        problems.add(Severity.ERROR, ProblemCode.NON_UNIFORM_SPACING,
                     f"Slice spacing varies from {steps.min():.3f} to {steps.max():.3f} mm (nominal {nominal:.3f} mm).",
                     files=[str(headers[i + 1].path) for i in uneven.tolist()], series_uid=uid,
                     hint="Resample to a uniform slice spacing before contouring.")
    if gaps.size or uneven.size:
        return None
    return float((positions[-1] - positions[0]) / (len(positions) - 1))


def _single_slice_spacing(header: FileHeader, uid: str, problems: ProblemList) -> float:
    thickness = header.floats("SpacingBetweenSlices") or header.floats("SliceThickness") or (1.0,)
    problems.add(Severity.WARNING, ProblemCode.SINGLE_SLICE,
                 f"The series has a single slice; its thickness {thickness[0]:g} mm is used as slice spacing.",
                 files=[str(header.path)], series_uid=uid, hint="Load the full series for 3D work.")
    return float(thickness[0]) if thickness[0] > 0 else 1.0


def _geometry(headers: Sequence[FileHeader], orientation: np.ndarray, normal: np.ndarray, spacing_k: float) -> ImageGeometry:
    first = headers[0]
    row_spacing, column_spacing = first.floats("PixelSpacing") or (1.0, 1.0)
    rows, columns = int(first.dataset.Rows), int(first.dataset.Columns)
    direction = (tuple(orientation[:3]), tuple(orientation[3:]), tuple(normal / np.linalg.norm(normal)))
    return ImageGeometry(
        shape=(len(headers), rows, columns),
        spacing_mm=(float(column_spacing), float(row_spacing), float(spacing_k)),
        origin_lps=tuple(float(v) for v in _ipp(first)),  # type: ignore[arg-type]
        direction=tuple(tuple(float(v) for v in row) for row in np.array(direction).T),  # type: ignore[arg-type]
    )
