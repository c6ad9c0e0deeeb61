"""Rules on what the ROIs mean: contours present, interpreted types, EXTERNAL, numbers and labels."""

from __future__ import annotations

from collections import Counter

from ...finding_codes import FindingCode
from ...findings import Finding, Severity
from ...name_rules import STRUCTURE_SET_LABEL_MAX, is_external, too_long
from ..model import RoiType
from .base import Rule
from .context import VerificationContext, int_of, text_of

MAX_STRUCTURE_SET_LABEL = STRUCTURE_SET_LABEL_MAX  # SH
DEFINED_TYPES = frozenset(t.value for t in RoiType)


def _types_by_roi(context: VerificationContext) -> dict[int, list[str | None]]:
    """ROI Number -> RTROIInterpretedType of each observation of it (None when the attribute is absent)."""
    types: dict[int, list[str | None]] = {}
    for item in context.observations:
        number = int_of(item, "ReferencedROINumber")
        if number is not None:
            value = text_of(item, "RTROIInterpretedType").strip() if "RTROIInterpretedType" in item else None
            types.setdefault(number, []).append(value)
    return types


class EmptyRoiRule(Rule):
    code = FindingCode.EMPTY_ROI.code
    severity = FindingCode.EMPTY_ROI.severity
    description = FindingCode.EMPTY_ROI.description
    hint = FindingCode.EMPTY_ROI.hint

    def check(self, context: VerificationContext) -> list[Finding]:
        counts = context.contour_counts()
        return [self.finding(f"ROI '{roi.label}' (number {roi.number}) has no contours.", roi_name=roi.label)
                for roi in context.rois if roi.number is not None and not counts.get(roi.number)]


class InterpretedTypeMissingRule(Rule):
    code = "ROI_INTERPRETED_TYPE_MISSING"
    severity = Severity.WARNING
    description = "Every ROI has a non-empty RTROIInterpretedType."
    # A warning, not an error: the attribute is Type 2, so empty is conformant and the file imports,
    # but the planning system then guesses the structure type. An *absent* attribute is reported here
    # too (the ROI has no type either way) and is also a TYPE2_ATTRIBUTE_MISSING error.
    hint = "Planning systems set the structure type from it: ORGAN for OARs, EXTERNAL for Body, PTV/CTV/GTV."

    def check(self, context: VerificationContext) -> list[Finding]:
        types = _types_by_roi(context)
        findings = []
        for roi in context.rois:
            values = types.get(roi.number) if roi.number is not None else None
            if not values:
                findings.append(self.finding(f"ROI '{roi.label}' has no RT ROI Observations item (no type).",
                                             roi_name=roi.label))
            elif any(not v for v in values):
                state = "an empty" if "" in values else "no"
                findings.append(self.finding(f"ROI '{roi.label}' has {state} RTROIInterpretedType.",
                                             roi_name=roi.label))
        return findings


class InterpretedTypeUnknownRule(Rule):
    code = "ROI_INTERPRETED_TYPE_UNKNOWN"
    severity = Severity.WARNING
    description = "RTROIInterpretedType is a DICOM defined term (EXTERNAL, ORGAN, PTV, ...)."
    hint = "Use a defined term (PS3.3 C.8.8.8); planning systems map unknown types to a default."

    def check(self, context: VerificationContext) -> list[Finding]:
        return [self.finding(f"ROI '{context.roi_labels.get(number, f'#{number}')}' has RTROIInterpretedType "
                             f"'{value}', not a defined term.", roi_name=context.roi_labels.get(number))
                for number, values in _types_by_roi(context).items()
                for value in values if value and value not in DEFINED_TYPES]


class MultipleExternalRule(Rule):
    code = FindingCode.MULTIPLE_EXTERNAL.code
    severity = FindingCode.MULTIPLE_EXTERNAL.severity
    description = FindingCode.MULTIPLE_EXTERNAL.description
    hint = FindingCode.MULTIPLE_EXTERNAL.hint

    def check(self, context: VerificationContext) -> list[Finding]:
        externals = [context.roi_labels.get(number, f"#{number}") for number, values in _types_by_roi(context).items()
                     if any(is_external(v) for v in values)]
        if len(externals) <= 1:
            return []
        required = bool(context.profile.exactly_one_external.value)
        return [self.finding(f"{len(externals)} ROIs are EXTERNAL ({', '.join(externals)}); "
                             f"{context.profile.display_name} {'accepts' if required else 'expects'} one.",
                             severity=Severity.ERROR if required else Severity.WARNING)]


class NoExternalRule(Rule):
    code = FindingCode.NO_EXTERNAL.code
    severity = FindingCode.NO_EXTERNAL.severity
    description = FindingCode.NO_EXTERNAL.description
    hint = FindingCode.NO_EXTERNAL.hint

    def check(self, context: VerificationContext) -> list[Finding]:
        if not context.profile.exactly_one_external.value:
            return []
        if any(is_external(v) for values in _types_by_roi(context).values() for v in values):
            return []
        return [self.finding("No ROI has RTROIInterpretedType EXTERNAL (Body/External).")]


class DuplicateRoiNumberRule(Rule):
    code = "DUPLICATE_ROI_NUMBER"
    severity = Severity.ERROR
    description = "ROI Numbers in StructureSetROISequence are unique."
    hint = "Contours and observations find their ROI by number; renumber the ROIs."

    def check(self, context: VerificationContext) -> list[Finding]:
        counts = Counter(roi.number for roi in context.rois if roi.number is not None)
        findings = []
        for number, count in counts.items():
            if count > 1:
                names = ", ".join(f"'{roi.label}'" for roi in context.rois if roi.number == number)
                findings.append(self.finding(f"ROI Number {number} is used by {count} ROIs ({names})."))
        return findings


class RoiReferenceRule(Rule):
    code = "UNKNOWN_ROI_REFERENCE"
    severity = Severity.ERROR
    description = "Every ROIContour and RT ROI Observations item references an existing ROI Number."
    hint = "The item belongs to no ROI; readers drop it or fail. Fix the ReferencedROINumber."

    def check(self, context: VerificationContext) -> list[Finding]:
        known = {roi.number for roi in context.rois}
        findings = []
        for sequence, items in (("ROIContourSequence", context.roi_contours),
                                ("RTROIObservationsSequence", context.observations)):
            for position, item in enumerate(items, start=1):
                number = int_of(item, "ReferencedROINumber")
                if number not in known:
                    findings.append(self.finding(f"{sequence} item {position} references ROI Number {number}, "
                                                 "which StructureSetROISequence does not define."))
        return findings


class StructureSetLabelRule(Rule):
    code = FindingCode.STRUCTURE_SET_LABEL_TOO_LONG.code
    severity = FindingCode.STRUCTURE_SET_LABEL_TOO_LONG.severity
    description = FindingCode.STRUCTURE_SET_LABEL_TOO_LONG.description
    hint = FindingCode.STRUCTURE_SET_LABEL_TOO_LONG.hint

    def check(self, context: VerificationContext) -> list[Finding]:
        label = text_of(context.dataset, "StructureSetLabel", context.codec)
        if not too_long(label, MAX_STRUCTURE_SET_LABEL):
            return []
        return [self.finding(f"StructureSetLabel '{label}' has {len(label)} characters; at most 16 allowed.")]


class RoiIdentificationCodeRule(Rule):
    code = "ROI_CODE_INVALID"
    severity = Severity.ERROR
    description = ("RT ROI Identification Code Sequence has one item with a code value, scheme and meaning "
                   "(SNOMED CT codes are digits).")
    hint = "Write one item per ROI (CodeValue, CodingSchemeDesignator, CodeMeaning), or leave the sequence out."

    def check(self, context: VerificationContext) -> list[Finding]:
        findings = []
        for item in context.observations:
            codes = item.get("RTROIIdentificationCodeSequence")
            if codes is None:
                continue
            problem = code_sequence_problem(list(codes))
            if problem:
                roi = context.roi_labels.get(int_of(item, "ReferencedROINumber") or -1)
                findings.append(self.finding(f"RT ROI Identification Code Sequence of ROI '{roi}': {problem}.",
                                             roi_name=roi))
        return findings


def code_sequence_problem(items: list) -> str:
    """What is wrong with the items of an RT ROI Identification Code Sequence ("" when nothing)."""
    if len(items) != 1:
        return f"{len(items)} items (exactly one is allowed)"
    item = items[0]
    value = str(item.get("CodeValue") or item.get("LongCodeValue") or item.get("URNCodeValue") or "").strip()
    scheme = str(item.get("CodingSchemeDesignator") or "").strip()
    missing = [name for name, text in (("code value", value), ("coding scheme", scheme),
                                       ("code meaning", str(item.get("CodeMeaning") or "").strip())) if not text]
    if missing:
        return "no " + ", no ".join(missing)
    if scheme == "SCT" and not value.isdigit():
        return f"SNOMED CT code value '{value}' is not a number"
    return ""


RULES: tuple[type[Rule], ...] = (
    EmptyRoiRule, InterpretedTypeMissingRule, InterpretedTypeUnknownRule, MultipleExternalRule, NoExternalRule,
    DuplicateRoiNumberRule, RoiReferenceRule, StructureSetLabelRule, RoiIdentificationCodeRule,
)
