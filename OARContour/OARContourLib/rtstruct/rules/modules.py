"""Rules on module attributes: Type 1 present with a value, Type 2 present, UIDs and Modality.

The attribute lists are those of ``rtstruct-requirements.md`` §1 (RT Structure Set IOD, PS3.3
A.19): the ones dciodvfy reports missing in files from rt-utils, MIM, CERR, dicompyler and
others. An absent Type 2 attribute is an error, as dciodvfy counts it, even though its value may
be empty.
"""

from __future__ import annotations

from collections.abc import Callable

from pydicom.dataset import Dataset

from ...findings import Finding, Severity
from .base import Rule
from .context import VerificationContext, int_of, text_of

TYPE1 = ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "Modality", "SeriesInstanceUID",
         "FrameOfReferenceUID", "StructureSetLabel", "StructureSetROISequence", "ROIContourSequence",
         "RTROIObservationsSequence")
TYPE2 = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
         "ReferringPhysicianName", "StudyID", "AccessionNumber", "SeriesNumber", "OperatorsName",
         "PositionReferenceIndicator", "Manufacturer", "StructureSetDate", "StructureSetTime")
#: Attributes of sequence items: (sequence, Type 1 attributes, Type 2 attributes).
ITEM_ATTRIBUTES = (
    ("StructureSetROISequence", ("ROINumber", "ReferencedFrameOfReferenceUID"), ("ROIName", "ROIGenerationAlgorithm")),
    ("ROIContourSequence", ("ReferencedROINumber",), ()),
    ("RTROIObservationsSequence", ("ObservationNumber", "ReferencedROINumber"), ("RTROIInterpretedType", "ROIInterpreter")),
)


def _has_value(dataset: Dataset, keyword: str) -> bool:
    if keyword not in dataset:
        return False
    value = dataset[keyword].value
    if value is None:
        return False
    return len(value) > 0 if hasattr(value, "__len__") else True


class Type1Rule(Rule):
    code = "TYPE1_ATTRIBUTE_MISSING"
    severity = Severity.ERROR
    description = "Type 1 attributes (UIDs, Modality, StructureSetLabel, ROI sequences, ROI numbers) have values."
    hint = "Type 1 attributes must be present with a value; copy UIDs from the CT, or re-export."

    def check(self, context: VerificationContext) -> list[Finding]:
        findings = [self.finding(f"{keyword} is missing or empty (Type 1).") for keyword in TYPE1
                    if not _has_value(context.dataset, keyword)]
        for sequence, type1, _ in ITEM_ATTRIBUTES:
            findings += _item_findings(self, context, sequence, type1, _has_value, "missing or empty (Type 1)")
        return findings


class Type2Rule(Rule):
    code = "TYPE2_ATTRIBUTE_MISSING"
    severity = Severity.ERROR
    description = "Type 2 attributes (patient, study, OperatorsName, PositionReferenceIndicator, ...) are present."
    hint = "Type 2 attributes may be empty but must be present; write them (empty when unknown)."

    def check(self, context: VerificationContext) -> list[Finding]:
        findings = [self.finding(f"{keyword} is absent (Type 2: may be empty, must be present).")
                    for keyword in TYPE2 if keyword not in context.dataset]
        for sequence, _, type2 in ITEM_ATTRIBUTES:
            findings += _item_findings(self, context, sequence, type2, Dataset.__contains__, "absent (Type 2)")
        return findings


def _item_findings(rule: Rule, context: VerificationContext, sequence: str, keywords: tuple[str, ...],
                   present: Callable[[Dataset, str], bool], problem: str) -> list[Finding]:
    """One finding per attribute missing from items of ``sequence``, naming the ROIs affected."""
    items = list(context.dataset.get(sequence) or [])
    findings = []
    for keyword in keywords:
        lacking = [(position, _item_roi(context, sequence, item))
                   for position, item in enumerate(items, start=1) if not present(item, keyword)]
        if lacking:
            places = [f"ROI '{name}'" if name else f"item {position}" for position, name in lacking]
            listed = ", ".join(places[:10]) + (", ..." if len(places) > 10 else "")
            findings.append(rule.finding(f"{keyword} is {problem} in {len(lacking)} of {len(items)} "
                                         f"{sequence} items ({listed}).",
                                         roi_name=lacking[0][1] if len(lacking) == 1 else None))
    return findings


def _item_roi(context: VerificationContext, sequence: str, item: Dataset) -> str | None:
    """The name of the ROI an item belongs to, or None when unknown."""
    keyword = "ROINumber" if sequence == "StructureSetROISequence" else "ReferencedROINumber"
    number = int_of(item, keyword)
    return context.roi_labels.get(number) if number is not None else None


class SopInstanceRule(Rule):
    code = "SOP_INSTANCE_UID_EQUALS_SERIES"
    severity = Severity.ERROR
    description = "SOPInstanceUID differs from SeriesInstanceUID."
    hint = "Give the structure set its own SOP Instance UID; equal UIDs confuse PACS and planning systems."

    def check(self, context: VerificationContext) -> list[Finding]:
        sop = text_of(context.dataset, "SOPInstanceUID").strip()
        if not sop or sop != text_of(context.dataset, "SeriesInstanceUID").strip():
            return []
        return [self.finding(f"SOPInstanceUID has the same value as SeriesInstanceUID ({sop}).")]


class ModalityRule(Rule):
    code = "MODALITY_NOT_RTSTRUCT"
    severity = Severity.ERROR
    description = "Modality is RTSTRUCT."
    hint = "Set Modality to RTSTRUCT; archives and planning systems sort series by it."

    def check(self, context: VerificationContext) -> list[Finding]:
        modality = text_of(context.dataset, "Modality").strip()
        if not modality or modality == "RTSTRUCT":
            return []
        return [self.finding(f"Modality is '{modality}', not RTSTRUCT.")]


RULES: tuple[type[Rule], ...] = (Type1Rule, Type2Rule, SopInstanceRule, ModalityRule)
