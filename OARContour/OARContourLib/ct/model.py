"""What the CT loader returns: voxels in HU, their geometry, and what an RTSTRUCT must reference.

Array index order is (k, j, i) = (slice, row, column), as in Slicer's ``arrayFromVolume``.
Geometry is in DICOM patient coordinates (LPS, millimetres).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..findings import Severity
from .problems import Problem

#: Diagonal that turns LPS into RAS (Slicer's world) and back.
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


@dataclass(frozen=True)
class ImageGeometry:
    """A regular voxel grid in LPS.

    ``direction`` holds the unit vectors of the i (column), j (row) and k (slice) axes as its
    columns; ``spacing_mm`` is (i, j, k) = (column spacing, row spacing, slice spacing).
    """

    shape: tuple[int, int, int]
    spacing_mm: tuple[float, float, float]
    origin_lps: tuple[float, float, float]
    direction: tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float, float]]

    @property
    def direction_matrix(self) -> np.ndarray:
        return np.array(self.direction, dtype=float)

    def ijk_to_lps(self) -> np.ndarray:
        """4×4 matrix mapping (i, j, k, 1) voxel indices to LPS millimetres."""
        matrix = np.eye(4)
        matrix[:3, :3] = self.direction_matrix * np.asarray(self.spacing_mm, dtype=float)
        matrix[:3, 3] = self.origin_lps
        return matrix

    def ijk_to_ras(self) -> np.ndarray:
        """4×4 matrix mapping voxel indices to RAS millimetres (Slicer's IJKToRAS)."""
        return LPS_TO_RAS @ self.ijk_to_lps()

    def to_dict(self) -> dict[str, Any]:
        return {
            "shape_kji": list(self.shape),
            "spacing_mm": list(self.spacing_mm),
            "origin_lps": list(self.origin_lps),
            "direction": [list(column) for column in self.direction],
        }


@dataclass(frozen=True)
class SliceReference:
    """One CT image as an RTSTRUCT references it: UIDs and where the slice lies."""

    sop_class_uid: str
    sop_instance_uid: str
    image_position_patient: tuple[float, float, float]
    position_along_normal_mm: float
    path: Path


@dataclass(frozen=True)
class SeriesReference:
    """Identity of the CT series and the patient/study attributes an RTSTRUCT copies.

    ``attributes`` maps DICOM keywords (PatientName, StudyDate, AccessionNumber, ...) to the
    string values of the CT; absent attributes are empty strings.
    """

    study_instance_uid: str
    series_instance_uid: str
    frame_of_reference_uid: str
    modality: str
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def is_referenceable(self) -> bool:
        """False for anonymised series with empty UIDs, which no RTSTRUCT could point to."""
        return bool(self.study_instance_uid and self.series_instance_uid and self.frame_of_reference_uid)


@dataclass(frozen=True)
class CTVolume:
    """A loaded image series: HU voxels on a regular grid plus everything needed to reference it."""

    hu: np.ndarray
    geometry: ImageGeometry
    slices: tuple[SliceReference, ...]
    reference: SeriesReference
    problems: tuple[Problem, ...] = ()

    @property
    def has_errors(self) -> bool:
        return any(p.severity is Severity.ERROR for p in self.problems)
