"""Finding codes that more than one door reports: one code, severity, message and hint each.

The writer's pre-checks (:mod:`.rtstruct.input_checks`), the verifier's rules (:mod:`.rtstruct.rules`),
the reader (:mod:`.rtstruct.parse`), the QA rules (:mod:`.qa`) and the name validator
(:mod:`.naming.validate`) report the same problem under the same code, description and hint, taken
from here.

Severity is decided here, once per code and door, not at the call sites:

* ``severity`` is how the problem counts in a structure set OARContour writes or sends: the writer
  refuses it, and the verifier and QA gate the export on it.
* ``read_severity`` is how the RTSTRUCT reader reports the same fact in a file someone else wrote
  (None: the reader does not check it). Reading is tolerant (house style §4): the file still loads in
  full, and an error there would make ``convert`` and ``compare`` exit 1 on a file they read
  correctly. Only a file that OARContour then writes or sends again has to pass ``severity``.

``DUPLICATE_ROI_NAME`` is the case in point. It is an error for our export: TG-263 rule 2 asks for
names unique ignoring case because some planning systems compare them so (``Resources/TPS/constraints.csv``
C13), and RayStation, meeting a name it already holds with another type, imports a second ROI
``<name> (1)`` (C08). No public source says what each system does with two equal names in one file,
so the export refuses them rather than guess. On read it is a warning: ROIs are keyed by ROI Number,
so both load, and the names only matter once the set goes to a planning system, where the writer's
and the verifier's error catches them.

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
    """How a code is reported: its severity, what it means (one line) and what to do about it.

    ``read_severity`` is the severity of the RTSTRUCT reader's finding (None: the reader does not
    report the code); see the module docstring for why it may be lower.
    """

    severity: Severity
    message: str
    hint: str
    read_severity: Severity | None = None


class FindingCode(enum.Enum):
    """Codes shared by several checks; ``FindingCode.EMPTY_ROI.code == "EMPTY_ROI"``."""

    DUPLICATE_ROI_NAME = CodeSpec(
        Severity.ERROR, "ROI names are unique (ignoring case when the profile says so, as TG-263 does).",
        "Some planning systems compare names ignoring case; rename or merge the duplicates.",
        read_severity=Severity.WARNING)
    EMPTY_ROI = CodeSpec(
        Severity.WARNING, "Every ROI has at least one contour (voxel).",
        "Expected for placeholder ROIs; otherwise contour or remove them (empty ROIs import as empty "
        "structures, and RayStation omits them on export).", read_severity=Severity.WARNING)
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

    @property
    def read_severity(self) -> Severity | None:
        return self.value.read_severity

    def finding(self, message: str, roi_name: str | None = None, *, hint: str | None = None) -> Finding:
        """A finding of a structure set OARContour writes or sends: this code at its :attr:`severity`."""
        return Finding(self.code, self.severity, message, roi_name, self.hint if hint is None else hint)

    def read_finding(self, message: str, roi_name: str | None = None, *, hint: str | None = None) -> Finding:
        """The RTSTRUCT reader's finding: this code at its :attr:`read_severity`.

        Raises
        ------
        ValueError
            The code has no read severity (the reader is not meant to report it).
        """
        if self.read_severity is None:
            raise ValueError(f"{self.code} is not a reader finding (no read_severity in finding_codes.py)")
        return Finding(self.code, self.read_severity, message, roi_name, self.hint if hint is None else hint)


__all__ = ["CodeSpec", "FindingCode"]
