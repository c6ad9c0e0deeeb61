"""Base class of the verifier's rules, and how contour-level hits become findings.

A rule checks one thing and reports it under one stable ``code`` (as each ``DICOMPatcherRule`` in
Slicer's DICOMPatcher does one fix-up). Contour-level rules collect :class:`ContourHit`\\ s and
report at most one finding per ROI: a problem that affects every contour of an ROI (a wrong
reference, a partial CT) then gives one line, not hundreds, and the message still lists where
(contour numbers and slice indices).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ...findings import Check, Finding
from .context import ContourItem, VerificationContext

#: Locations listed in a per-ROI message before "and N more".
MAX_LISTED = 5


class Rule(Check):
    """One verification rule: ``check`` returns the findings of ``code`` (empty when clean)."""

    def check(self, context: VerificationContext) -> list[Finding]:
        raise NotImplementedError


@dataclass(frozen=True)
class ContourHit:
    """One contour a rule objects to, with what is wrong with it."""

    contour: ContourItem
    slice_index: int | None
    detail: str


def summarise(rule: Rule, hits: Sequence[ContourHit], problem: str) -> list[Finding]:
    """One finding per ROI; ``problem`` says what is wrong, e.g. "plane is on no CT slice"."""
    by_roi: dict[tuple[int | None, str], list[ContourHit]] = {}
    for hit in hits:
        by_roi.setdefault((hit.contour.roi_number, hit.contour.roi_name), []).append(hit)
    findings = []
    for (_, roi_name), roi_hits in by_roi.items():
        total = roi_hits[0].contour.roi_contour_count
        listed = "; ".join(_where(h) for h in roi_hits[:MAX_LISTED])
        more = f"; and {len(roi_hits) - MAX_LISTED} more" if len(roi_hits) > MAX_LISTED else ""
        unit = "contour" if total == 1 else "contours"
        message = f"ROI '{roi_name}', {len(roi_hits)} of {total} {unit}: {problem} ({listed}{more})."
        first_slice = next((h.slice_index for h in roi_hits if h.slice_index is not None), None)
        findings.append(rule.finding(message, roi_name=roi_name, slice_index=first_slice))
    return findings


def _where(hit: ContourHit) -> str:
    place = f"contour {hit.contour.position}"
    if hit.slice_index is not None:
        place += f" on slice {hit.slice_index}"
    return f"{place}: {hit.detail}" if hit.detail else place
