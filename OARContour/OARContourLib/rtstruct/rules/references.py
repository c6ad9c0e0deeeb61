"""Rules on the reference chain: Frame of Reference, study, series and the images contours name.

A planning system attaches a structure set to images by these UIDs (PS3.3 C.8.8.5 and C.8.8.6);
a wrong one makes the import fail or, worse, puts the contours on another image set.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydicom.dataset import Dataset

from ...findings import Finding, Severity
from .base import ContourHit, Rule, summarise
from .context import VerificationContext, text_of


def _frames(context: VerificationContext) -> list[Dataset]:
    return list(context.dataset.get("ReferencedFrameOfReferenceSequence") or [])


def _referenced_series(context: VerificationContext) -> Iterator[Dataset]:
    for frame in _frames(context):
        for study in frame.get("RTReferencedStudySequence") or []:
            yield from study.get("RTReferencedSeriesSequence") or []


def _uid(dataset: Dataset, keyword: str) -> str:
    return text_of(dataset, keyword).strip()


class FrameOfReferenceRule(Rule):
    code = "FRAME_OF_REFERENCE_MISMATCH"
    severity = Severity.ERROR
    description = "Top-level, referenced and per-ROI Frame of Reference UIDs equal the CT's."
    hint = "Contours must share the CT's Frame of Reference; re-export the structure set against this CT."

    def check(self, context: VerificationContext) -> list[Finding]:
        expected = context.ct.reference.frame_of_reference_uid
        findings = []
        top = _uid(context.dataset, "FrameOfReferenceUID")
        if top and top != expected:
            findings.append(self.finding(f"FrameOfReferenceUID {top} is not the CT's {expected}."))
        listed = [_uid(frame, "FrameOfReferenceUID") for frame in _frames(context)]
        if listed and expected not in listed:
            findings.append(self.finding(f"ReferencedFrameOfReferenceSequence lists {', '.join(listed)}, "
                                         f"not the CT's {expected}."))
        wrong = [roi for roi in context.rois if _uid(roi.item, "ReferencedFrameOfReferenceUID") not in ("", expected)]
        if wrong:
            names = ", ".join(f"'{roi.label}'" for roi in wrong)
            uids = sorted({_uid(roi.item, "ReferencedFrameOfReferenceUID") for roi in wrong})
            subject = f"ROIs {names} reference" if len(wrong) > 1 else f"ROI {names} references"
            findings.append(self.finding(
                f"{subject} Frame of Reference {', '.join(uids)}, not the CT's {expected}.",
                roi_name=wrong[0].label if len(wrong) == 1 else None))
        return findings


class StudyRule(Rule):
    code = "STUDY_MISMATCH"
    severity = Severity.ERROR
    description = "StudyInstanceUID and the RT Referenced Study equal the CT's study."
    hint = "A structure set belongs to the study of its images; export it into the CT's study."

    def check(self, context: VerificationContext) -> list[Finding]:
        expected = context.ct.reference.study_instance_uid
        findings = []
        study = _uid(context.dataset, "StudyInstanceUID")
        if study and study != expected:
            findings.append(self.finding(f"StudyInstanceUID {study} is not the CT's study {expected}."))
        referenced = [_uid(item, "ReferencedSOPInstanceUID") for frame in _frames(context)
                      for item in frame.get("RTReferencedStudySequence") or []]
        if referenced and expected not in referenced:
            findings.append(self.finding(f"RTReferencedStudySequence names study {', '.join(referenced)}, "
                                         f"not the CT's {expected}."))
        return findings


class ReferencedSeriesAbsentRule(Rule):
    code = "REFERENCED_SERIES_ABSENT"
    severity = Severity.WARNING
    description = "The reference chain names an image series (RTReferencedSeriesSequence)."
    hint = ("Legal (Type 3 in current editions) but RayStation and most readers use it to find the images; "
            "add the CT series with its ContourImageSequence.")

    def check(self, context: VerificationContext) -> list[Finding]:
        if any(True for _ in _referenced_series(context)):
            return []
        return [self.finding("No RTReferencedSeriesSequence item names the image series.")]


class ReferencedSeriesRule(Rule):
    code = "REFERENCED_SERIES_MISMATCH"
    severity = Severity.ERROR
    description = "The referenced series is the CT series."
    hint = "RTReferencedSeriesSequence must name the CT series the contours were drawn on."

    def check(self, context: VerificationContext) -> list[Finding]:
        expected = context.ct.reference.series_instance_uid
        listed = [_uid(series, "SeriesInstanceUID") for series in _referenced_series(context)]
        if not listed or expected in listed:
            return []
        return [self.finding(f"RTReferencedSeriesSequence names series {', '.join(listed)}, "
                             f"not the CT series {expected}.")]


class SeriesImagesRule(Rule):
    code = "SERIES_IMAGE_MISSING"
    severity = Severity.ERROR
    description = "Every image in the referenced series' ContourImageSequence is a slice of the CT."
    hint = ("The structure set was made on another (e.g. uncropped) version of the series, or the CT folder "
            "is incomplete; load the complete original series.")

    def check(self, context: VerificationContext) -> list[Finding]:
        known = context.frame.index_of_uid
        listed = [_uid(image, "ReferencedSOPInstanceUID") for series in _referenced_series(context)
                  for image in series.get("ContourImageSequence") or []]
        missing = [uid for uid in listed if uid not in known]
        if not missing:
            return []
        return [self.finding(f"{len(missing)} of {len(listed)} images listed in RTReferencedSeriesSequence "
                             f"are not in the CT series (e.g. {missing[0]}).")]


class ContourImageSequenceRule(Rule):
    code = "CONTOUR_IMAGE_SEQUENCE_ABSENT"
    severity = Severity.WARNING
    description = "Each contour names its image (ContourImageSequence)."
    hint = "Legal (Type 3), but readers then match contours to slices by position; write it for every contour."

    def check(self, context: VerificationContext) -> list[Finding]:
        hits = [ContourHit(c, context.contour_slice(n), "") for n, c in enumerate(context.contours)
                if c.image_uids is None]
        return summarise(self, hits, "no ContourImageSequence")


class ContourImageRule(Rule):
    code = "CONTOUR_IMAGE_MISSING"
    severity = Severity.ERROR
    description = "Each SOP Instance UID in a contour's ContourImageSequence is a slice of the CT."
    hint = "The contour names an image that is not in this CT series; re-export against the loaded CT."

    def check(self, context: VerificationContext) -> list[Finding]:
        hits = []
        for n, contour in enumerate(context.contours):
            missing = context.missing_images(contour)
            if missing or contour.image_uids == ():
                detail = f"names {missing[0]}" if missing else "ContourImageSequence is empty"
                plane = context.planes[n]
                if plane is not None and plane.slice_index is None:
                    detail += f", plane at {plane.position_mm:.2f} mm is on no CT slice"
                hits.append(ContourHit(contour, context.contour_slice(n), detail))
        return summarise(self, hits, "ContourImageSequence names an image not in the CT")


class ContourImageClassRule(Rule):
    code = "CONTOUR_IMAGE_CLASS_MISMATCH"
    severity = Severity.ERROR
    description = "The Referenced SOP Class UID of each contour image is the CT slice's SOP Class."
    hint = "Eclipse rejects images referenced with the wrong class (e.g. an MR named as CT); copy it from the image."

    def check(self, context: VerificationContext) -> list[Finding]:
        slices, known = context.ct.slices, context.frame.index_of_uid
        hits = []
        for contour in context.contours:
            wrong = [(sop_class, uid) for sop_class, uid in contour.image_uids or ()
                     if uid in known and sop_class != slices[known[uid]].sop_class_uid]
            if wrong:
                k = known[wrong[0][1]]
                detail = f"class {wrong[0][0] or '(empty)'}, image is {slices[k].sop_class_uid}"
                hits.append(ContourHit(contour, k, detail))
        return summarise(self, hits, "wrong Referenced SOP Class UID")


RULES: tuple[type[Rule], ...] = (
    FrameOfReferenceRule, StudyRule, ReferencedSeriesAbsentRule, ReferencedSeriesRule, SeriesImagesRule,
    ContourImageSequenceRule, ContourImageRule, ContourImageClassRule,
)
