"""QA rules on each structure's own voxels: empty, tiny, implausible volume, slice gaps, outside Body."""

from __future__ import annotations

import numpy as np

from ..finding_codes import FindingCode
from ..findings import Finding
from ..rtstruct.model import Structure
from .context import MAY_LEAVE_BODY, QAContext
from .organ_volumes import load_volume_ranges
from .rule import QARule

TINY_CC = 0.1
OUTSIDE_FRACTION = 0.01
#: Structures made of separate parts along the body axis (vertebral bodies between discs, bones,
#: ribs, teeth); a slice without them is anatomy, not a contouring gap.
DISCONTINUOUS = frozenset({"vbs", "bone", "bones", "ribs", "ribs_l", "ribs_r", "teeth"})


class EmptyStructure(QARule):
    """A structure with no voxels (nothing to export or plan on)."""

    code = FindingCode.EMPTY_ROI.code
    description = FindingCode.EMPTY_ROI.description
    severity = FindingCode.EMPTY_ROI.severity
    hint = FindingCode.EMPTY_ROI.hint

    def check(self, context: QAContext) -> list[Finding]:
        return [self.finding(f"'{s.name}' has no voxels.", s.name)
                for s in context.structures if context.voxels(s) == 0]


class TinyStructure(QARule):
    """A structure below :data:`TINY_CC`, measured in voxels times the grid's voxel volume."""

    code = "TINY_STRUCTURE"
    description = "A structure smaller than 0.1 cc (voxels times the voxel volume)."
    hint = "Check for a stray voxel or a structure contoured on the wrong slice."

    def check(self, context: QAContext) -> list[Finding]:
        findings = []
        for structure in context.structures:
            volume_cc = context.volume_cc(structure)
            if 0 < volume_cc < TINY_CC:
                findings.append(self.finding(f"'{structure.name}' is only {volume_cc:.3f} cc "
                                             f"(below {TINY_CC} cc).", structure.name))
        return findings


class VolumeImplausible(QARule):
    code = "VOLUME_IMPLAUSIBLE"
    description = "An organ volume outside the range of Resources/QA/organ_volumes.csv."
    hint = "Check the contour (wrong organ, missing slices, leak); ranges are in Resources/QA/organ_volumes.csv."

    def check(self, context: QAContext) -> list[Finding]:
        ranges = load_volume_ranges()
        findings = []
        for structure in context.structures:
            plausible = ranges.get(structure.name.casefold())
            volume_cc = context.volume_cc(structure)
            if plausible is None or volume_cc == 0 or plausible.min_cc <= volume_cc <= plausible.max_cc:
                continue
            findings.append(self.finding(
                f"'{structure.name}' is {volume_cc:.1f} cc; a plausible adult range is "
                f"{plausible.min_cc:g}-{plausible.max_cc:g} cc.", structure.name))
        return findings


class SliceGap(QARule):
    code = "SLICE_GAP"
    description = "Slices without the structure between its first and last slice."
    hint = "Contour the missing slices (or interpolate) so the structure is continuous."

    def check(self, context: QAContext) -> list[Finding]:
        findings = []
        for structure in context.structures:
            present = context.slices(structure)
            if present.size < 2 or structure.name.casefold() in DISCONTINUOUS:
                continue
            missing = np.setdiff1d(np.arange(present[0], present[-1] + 1), present)
            if missing.size:
                listed = ", ".join(str(int(k)) for k in missing)
                findings.append(self.finding(f"'{structure.name}' is missing on slice(s) {listed} between "
                                             f"slices {present[0]} and {present[-1]}.", structure.name,
                                             slice_index=int(missing[0])))
        return findings


class OutsideBody(QARule):
    """More than :data:`OUTSIDE_FRACTION` of a structure outside Body/External."""

    code = "OUTSIDE_BODY"
    description = "More than 1 % of a structure lies outside Body/External."
    hint = "Crop the structure to the Body/External outline, or fix the outline."

    def check(self, context: QAContext) -> list[Finding]:
        body = context.external_mask
        if body is None:
            return []
        findings = []
        for structure in context.structures:
            total = context.voxels(structure)
            if structure.roi_type in MAY_LEAVE_BODY or total == 0:
                continue
            outside = _outside(structure, body)
            if outside > OUTSIDE_FRACTION * total:
                findings.append(self.finding(f"{100.0 * outside / total:.1f}% of '{structure.name}' lies outside "
                                             f"'{context.external.name}'.", structure.name))  # type: ignore[union-attr]
        return findings


def _outside(structure: Structure, body: np.ndarray) -> int:
    """Voxels of the structure outside ``body`` (full grid), counted on the structure's block only."""
    window = tuple(slice(o, o + n) for o, n in zip(structure.offset_kji, structure.mask.shape))
    return int(np.count_nonzero(np.asarray(structure.mask, dtype=bool) & ~body[window]))
