"""Every check OARContour runs, listed from the code (``oarcontour rules``).

Four families share one vocabulary (:mod:`.findings`): problems of a CT folder
(:class:`~.ct.problems.ProblemCode`), the writer's refusals and warnings before a byte is written
(:mod:`.rtstruct.input_checks`, codes of :mod:`.finding_codes` and :class:`~.name_rules.NameProblem`),
the verifier's rules (:data:`.rtstruct.rules.RULES`) and the QA rules (:data:`.qa.RULES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .ct.problems import ProblemCode
from .finding_codes import FindingCode
from .findings import Severity
from .qa import RULES as QA_RULES
from .rtstruct.rules import RULES as VERIFY_RULES

#: Families in listing order: where the check runs.
FAMILIES = ("ct", "write", "verify", "qa")
#: What the writer refuses or warns about (rtstruct/input_checks.py), beyond the CT problems.
_WRITE_CODES = (FindingCode.STRUCTURE_SET_LABEL_TOO_LONG, FindingCode.DUPLICATE_ROI_NAME,
                FindingCode.MULTIPLE_EXTERNAL, FindingCode.NO_EXTERNAL, FindingCode.EMPTY_ROI)


@dataclass(frozen=True)
class CheckEntry:
    """One check: where it runs, its code, severity and what it checks."""

    family: str
    code: str
    severity: Severity
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {"family": self.family, "code": self.code, "severity": self.severity.value,
                "description": self.description}


def all_checks() -> list[CheckEntry]:
    """Every check, family by family, each family in the order it runs."""
    entries = [CheckEntry("ct", c.value, c.severity, c.description) for c in ProblemCode]
    entries += [CheckEntry("write", c.code, c.severity, c.description) for c in _WRITE_CODES]
    entries += [CheckEntry("verify", r.code, r.severity, r.description) for r in VERIFY_RULES]
    entries += [CheckEntry("qa", r.code, r.severity, r.description) for r in QA_RULES]
    return entries


__all__ = ["FAMILIES", "CheckEntry", "all_checks"]
