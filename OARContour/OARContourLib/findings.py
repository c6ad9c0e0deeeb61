"""Findings of checks (verifier, naming, QA): one small record per problem found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .ct.problems import Severity


@dataclass(frozen=True)
class Finding:
    """What is wrong, how bad, where (ROI and slice when known) and what to do about it."""

    code: str
    severity: Severity
    message: str
    roi_name: str | None = None
    hint: str = ""
    slice_index: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity.value, "roi_name": self.roi_name,
                "message": self.message, "hint": self.hint, "slice_index": self.slice_index}


def has_errors(findings: list[Finding] | tuple[Finding, ...]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)
