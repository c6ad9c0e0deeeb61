"""Finding codes that more than one door reports: one code, severity, message and hint each.

The writer's pre-checks (:mod:`.rtstruct.input_checks`), the verifier's rules (:mod:`.rtstruct.rules`),
the reader (:mod:`.rtstruct.parse`), the QA rules (:mod:`.qa`) and the name validator
(:mod:`.naming.validate`) report the same problem under the same code and severity, taken from here.

A Python enum rather than a Resources CSV: the codes are part of the program's interface (JSON
output, tests, the report), every use is checked by mypy and ruff, and a site has no reason to edit
them, which is what the Resources tables are for.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .findings import Finding, Severity


@dataclass(frozen=True)
class CodeSpec:
    """How a code is reported: its severity, what it means (one line) and what to do about it."""

    severity: Severity
    message: str
    hint: str


class FindingCode(enum.Enum):
    """Codes shared by several checks; ``FindingCode.EMPTY_ROI.code == "EMPTY_ROI"``."""

    DUPLICATE_ROI_NAME = CodeSpec(
        Severity.ERROR, "ROI names are unique (ignoring case when the profile says so, as TG-263 does).",
        "Some planning systems compare names ignoring case; rename or merge the duplicates.")
    EMPTY_ROI = CodeSpec(
        Severity.WARNING, "Every ROI has at least one contour (voxel).",
        "Empty ROIs import as empty structures (RayStation omits them on export); contour or remove them.")
    MULTIPLE_EXTERNAL = CodeSpec(
        Severity.ERROR, "At most one ROI is EXTERNAL (an error when the profile requires exactly one).",
        "Keep one Body/External as EXTERNAL and give the others another type (e.g. ORGAN or SUPPORT).")
    NO_EXTERNAL = CodeSpec(
        Severity.WARNING, "One ROI is EXTERNAL when the profile requires one.",
        "Most planning systems need one External (Body) contour for dose calculation.")
    STRUCTURE_SET_LABEL_TOO_LONG = CodeSpec(
        Severity.ERROR, "StructureSetLabel has 1 to 16 characters (SH).",
        "Eclipse had 'many problems' with longer labels; shorten it to 16 characters.")

    @property
    def code(self) -> str:
        return self.name

    @property
    def severity(self) -> Severity:
        return self.value.severity

    @property
    def hint(self) -> str:
        return self.value.hint

    @property
    def description(self) -> str:
        return self.value.message

    def finding(self, message: str, roi_name: str | None = None, *, hint: str | None = None,
                severity: Severity | None = None) -> Finding:
        return Finding(self.code, severity or self.severity, message, roi_name, self.hint if hint is None else hint)


__all__ = ["CodeSpec", "FindingCode"]
