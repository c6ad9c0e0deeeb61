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
