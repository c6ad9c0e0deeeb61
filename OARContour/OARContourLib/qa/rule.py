"""The shape every QA rule has (one small class per rule, as Slicer's DICOMPatcher rules)."""

from __future__ import annotations

from ..findings import Check, Finding
from .context import QAContext


class QARule(Check):
    """One check over a structure set; subclasses set ``code``, ``severity``, ``description`` and ``hint``."""

    def check(self, context: QAContext) -> list[Finding]:
        """Findings of this rule; empty when the structure set passes it."""
        raise NotImplementedError
