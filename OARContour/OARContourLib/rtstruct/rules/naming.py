"""Rules on ROI names and labels, against the chosen planning-system profile.

The limits come from the profile (``Resources/TPS/<id>.json``): name length (Eclipse structure IDs
are 16 characters), the allowed characters (TG-263), uniqueness ignoring case. Names are checked
as stored, so a name that only differs by surrounding spaces is reported, not silently trimmed.
"""

from __future__ import annotations

from ...finding_codes import FindingCode
from ...findings import Finding, Severity
from ...name_rules import (
    OBSERVATION_LABEL_MAX,
    duplicate_groups,
    has_bad_characters,
    has_outer_spaces,
    is_blank,
    too_long,
)
from .base import Rule
from .context import VerificationContext, int_of, text_of

MAX_OBSERVATION_LABEL = OBSERVATION_LABEL_MAX  # ROIObservationLabel is SH


class RoiNameEmptyRule(Rule):
    code = "ROI_NAME_EMPTY"
    severity = Severity.ERROR
    description = "Every ROI has a name."
    hint = "ROIName is Type 2 (may be empty) but planning systems identify structures by it; name the ROI."

    def check(self, context: VerificationContext) -> list[Finding]:
        return [self.finding(f"ROI number {roi.number} has an empty ROIName.", roi_name=roi.label)
                for roi in context.rois if is_blank(roi.name)]


class RoiNameSpacesRule(Rule):
    code = "ROI_NAME_SPACES"
    severity = Severity.ERROR
    description = "ROI names have no leading or trailing spaces."
    hint = "Eclipse refuses structure IDs with leading or trailing spaces; trim the name."

    def check(self, context: VerificationContext) -> list[Finding]:
        return [self.finding(f"ROI name {roi.name!r} has leading or trailing spaces.", roi_name=roi.name)
                for roi in context.rois if has_outer_spaces(roi.name)]


class RoiNameCharactersRule(Rule):
    code = "ROI_NAME_CHARACTERS"
    severity = Severity.ERROR
    description = "ROI names use only the profile's characters (TG-263: ASCII letters, digits, _ ~ ^ - ! .)."
    hint = "Rename it to TG-263 form: no spaces, ASCII letters and digits, '_' between parts."

    def check(self, context: VerificationContext) -> list[Finding]:
        pattern = context.profile.name_pattern()
        findings = []
        for roi in context.rois:
            name = roi.name.strip()
            if has_bad_characters(roi.name, pattern):
                findings.append(self.finding(
                    f"ROI name '{name}' has characters outside {pattern.pattern} "
                    f"({context.profile.display_name} profile).", roi_name=roi.name))
        return findings


class RoiNameLengthRule(Rule):
    code = "ROI_NAME_TOO_LONG"
    severity = Severity.ERROR
    description = "ROI names fit the profile's length limit (LO: 64; Eclipse and TG-263: 16)."
    hint = "Shorten it (TG-263: drop underscores from the left, or use the reverse-order name)."

    def check(self, context: VerificationContext) -> list[Finding]:
        limit = int(context.profile.max_roi_name_length.value)
        return [self.finding(f"ROI name '{roi.name}' has {len(roi.name)} characters, more than {limit} "
                             f"({context.profile.display_name} profile).", roi_name=roi.name)
                for roi in context.rois if too_long(roi.name, limit)]


class DuplicateNameRule(Rule):
    code = FindingCode.DUPLICATE_ROI_NAME.code
    severity = FindingCode.DUPLICATE_ROI_NAME.severity
    description = FindingCode.DUPLICATE_ROI_NAME.description
    hint = FindingCode.DUPLICATE_ROI_NAME.hint

    def check(self, context: VerificationContext) -> list[Finding]:
        fold = bool(context.profile.unique_names_ignoring_case.value)
        findings = []
        for names in duplicate_groups((roi.name for roi in context.rois), fold):
            spelled = ", ".join(f"'{n}'" for n in names)
            findings.append(self.finding(f"{len(names)} ROIs share the name {spelled}"
                                         f"{' (ignoring case)' if fold else ''}.", roi_name=names[0]))
        return findings


class ObservationLabelRule(Rule):
    code = "ROI_OBSERVATION_LABEL_TOO_LONG"
    severity = Severity.ERROR
    description = "ROIObservationLabel is at most 16 characters (SH)."
    hint = "Truncate the label to 16 characters (OARContour writes the name's first 16)."

    def check(self, context: VerificationContext) -> list[Finding]:
        findings = []
        for item in context.observations:
            label = text_of(item, "ROIObservationLabel", context.codec)
            if too_long(label, MAX_OBSERVATION_LABEL):
                roi = context.roi_labels.get(int_of(item, "ReferencedROINumber") or -1)
                findings.append(self.finding(f"ROIObservationLabel '{label}' has {len(label)} characters; "
                                             f"at most 16 allowed.", roi_name=roi))
        return findings


RULES: tuple[type[Rule], ...] = (
    RoiNameEmptyRule, RoiNameSpacesRule, RoiNameCharactersRule, RoiNameLengthRule, DuplicateNameRule,
    ObservationLabelRule,
)
