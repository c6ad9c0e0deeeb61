"""The shape every QA rule has (one small class per rule, as Slicer's DICOMPatcher rules)."""

from __future__ import annotations

from ..ct.problems import Severity
from ..findings import Finding
from .context import QAContext


class QARule:
    """One check over a structure set; subclasses set ``code``, ``severity`` and ``hint``."""

    code: str = ""
    severity: Severity = Severity.WARNING
    hint: str = ""

    def check(self, context: QAContext) -> list[Finding]:
        """Findings of this rule; empty when the structure set passes it."""
        raise NotImplementedError

    def finding(self, message: str, roi_name: str | None = None, slice_index: int | None = None) -> Finding:
        return Finding(self.code, self.severity, message, roi_name=roi_name, hint=self.hint,
                       slice_index=slice_index)
