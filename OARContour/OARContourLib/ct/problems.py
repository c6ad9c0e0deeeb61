"""Problems found in a folder of DICOM files: what is wrong, how bad, which files."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from ..findings import Severity  # re-exported: the one home of Severity is findings.py


class ProblemCode(str, enum.Enum):
    MULTIPLE_SERIES = "MULTIPLE_SERIES"
    MISSING_SLICE = "MISSING_SLICE"
    DUPLICATE_POSITION = "DUPLICATE_POSITION"
    NON_UNIFORM_SPACING = "NON_UNIFORM_SPACING"
    GANTRY_TILT = "GANTRY_TILT"
    INCONSISTENT_GEOMETRY = "INCONSISTENT_GEOMETRY"
    UNREADABLE_FILE = "UNREADABLE_FILE"
    MISSING_UID = "MISSING_UID"
    UNSUPPORTED_COMPRESSION = "UNSUPPORTED_COMPRESSION"
    NO_IMAGE_SERIES = "NO_IMAGE_SERIES"
    # Beyond the list: findings a user still needs to see.
    SINGLE_SLICE = "SINGLE_SLICE"
    NOT_CT = "NOT_CT"
    # Damaged files (issue 12): each has its own code, and each stops loading.
    TRUNCATED_PIXEL_DATA = "TRUNCATED_PIXEL_DATA"
    INVALID_PIXEL_SPACING = "INVALID_PIXEL_SPACING"
    INVALID_POSITION = "INVALID_POSITION"
    DUPLICATE_SOP_INSTANCE_UID = "DUPLICATE_SOP_INSTANCE_UID"

    @property
    def severity(self) -> Severity:
        """How bad the problem is (the severity every place reporting it uses)."""
        return Severity.WARNING if self in _WARNINGS else Severity.ERROR

    @property
    def description(self) -> str:
        """One line saying what is checked (``oarcontour rules``)."""
        return _DESCRIPTIONS[self]


_WARNINGS = frozenset({ProblemCode.MULTIPLE_SERIES, ProblemCode.NOT_CT, ProblemCode.SINGLE_SLICE,
                       ProblemCode.UNREADABLE_FILE})
_DESCRIPTIONS = {
    ProblemCode.MULTIPLE_SERIES: "The folder holds one image series (else pick one by Series Instance UID).",
    ProblemCode.MISSING_SLICE: "No slice is missing between the first and the last (regular slice spacing).",
    ProblemCode.DUPLICATE_POSITION: "No two slices share one position.",
    ProblemCode.NON_UNIFORM_SPACING: "Slices are evenly spaced.",
    ProblemCode.GANTRY_TILT: "Slices are perpendicular to their stacking direction (no gantry tilt).",
    ProblemCode.INCONSISTENT_GEOMETRY: "Every slice has the same orientation, size and pixel spacing.",
    ProblemCode.UNREADABLE_FILE: "Every file of the folder is readable DICOM (others are skipped).",
    ProblemCode.MISSING_UID: "Every slice has its Study, Series, Frame of Reference and SOP Instance UIDs.",
    ProblemCode.UNSUPPORTED_COMPRESSION: "The pixel data can be decoded by the installed pydicom handlers.",
    ProblemCode.NO_IMAGE_SERIES: "The folder holds at least one image series.",
    ProblemCode.SINGLE_SLICE: "The series has more than one slice.",
    ProblemCode.NOT_CT: "The series is a CT (Modality CT).",
    ProblemCode.TRUNCATED_PIXEL_DATA: "Every slice has all of its pixel data.",
    ProblemCode.INVALID_PIXEL_SPACING: "Pixel Spacing is two positive numbers.",
    ProblemCode.INVALID_POSITION: "Image Position (Patient) is three finite numbers.",
    ProblemCode.DUPLICATE_SOP_INSTANCE_UID: "No two files share a SOP Instance UID.",
}


#: Problems after which the slices cannot be stacked into one regular voxel grid.
GRID_BREAKING = frozenset(
    {
        ProblemCode.MISSING_SLICE,
        ProblemCode.DUPLICATE_POSITION,
        ProblemCode.NON_UNIFORM_SPACING,
        ProblemCode.GANTRY_TILT,
        ProblemCode.INCONSISTENT_GEOMETRY,
        ProblemCode.UNSUPPORTED_COMPRESSION,
        ProblemCode.NO_IMAGE_SERIES,
        ProblemCode.TRUNCATED_PIXEL_DATA,
        ProblemCode.INVALID_PIXEL_SPACING,
        ProblemCode.INVALID_POSITION,
        ProblemCode.DUPLICATE_SOP_INSTANCE_UID,
    }
)


@dataclass(frozen=True)
class Problem:
    """One finding about the input; ``series_uid`` is None for folder-level problems."""

    severity: Severity
    code: ProblemCode
    message: str
    files: tuple[str, ...] = ()
    series_uid: str | None = None
    hint: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity.value,
            "code": self.code.value,
            "message": self.message,
            "hint": self.hint,
            "series_uid": self.series_uid,
            "files": list(self.files),
        }


@dataclass
class ProblemList:
    """Collects problems while scanning; keeps insertion order for stable output."""

    items: list[Problem] = field(default_factory=list)

    def add(
        self,
        severity: Severity,
        code: ProblemCode,
        message: str,
        *,
        files: tuple[str, ...] | list[str] = (),
        series_uid: str | None = None,
        hint: str = "",
    ) -> None:
        self.items.append(Problem(severity, code, message, tuple(files), series_uid, hint))
