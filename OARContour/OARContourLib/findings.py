"""Findings of checks (CT loading, writer pre-checks, verifier, naming, QA): one record per problem found.

The one home of :class:`Severity`, :class:`Finding` and :class:`Check`, the base every check has
(CT problems as :class:`~OARContourLib.ct.problems.ProblemCode`, verify rules, QA rules): a stable
code, a severity, one line saying what is checked and a hint. ``oarcontour rules`` lists them all.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, ClassVar


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"


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


class Check:
    """One check: subclasses set ``code``, ``severity``, ``description`` and ``hint``.

    Verify rules (:class:`~OARContourLib.rtstruct.rules.base.Rule`) and QA rules
    (:class:`~OARContourLib.qa.rule.QARule`) derive from it; ``check`` takes their own context.
    """

    code: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.WARNING
    #: One line saying what is checked (shown by ``oarcontour rules``); the class docstring when it has none.
    description: ClassVar[str] = ""
    hint: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # What a rule checks is written once, in ``description``; help() and the API docs read __doc__.
        # A docstring of its own stays for a rule that says more (how it measures, what it leaves out).
        if cls.__dict__.get("__doc__") is None and cls.description:
            cls.__doc__ = cls.description

    def finding(self, message: str, roi_name: str | None = None, slice_index: int | None = None, *,
                hint: str | None = None, severity: Severity | None = None) -> Finding:
        return Finding(self.code, severity or self.severity, message, roi_name,
                       self.hint if hint is None else hint, slice_index)


def has_errors(findings: list[Finding] | tuple[Finding, ...]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)


__all__ = ["Check", "Finding", "Severity", "has_errors"]
