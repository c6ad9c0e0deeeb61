"""Place a CT volume in the subject hierarchy as Patient → Study → series, as Slicer's DICOM module does.

SlicerRT's RTSTRUCT export and Slicer's DICOM export dialog read the patient and study from this
tree: item UIDs ``DICOM`` (PatientID, StudyInstanceUID, SeriesInstanceUID), ``DICOMInstanceUID``
(the slices' SOP Instance UIDs) and ``DICOM.<keyword>`` attributes. Existing patient and study
items with the same UIDs are reused, so two series of one study share one study item.

Anonymised series with empty UIDs are still placed, under items matched by name, and no UID is
invented for them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import slicer
from vtkmodules.vtkCommonCore import vtkIdList

from ..ct.model import SeriesReference

logger = logging.getLogger(__name__)

_CONSTANTS = slicer.vtkMRMLSubjectHierarchyConstants
DICOM_UID_NAME = _CONSTANTS.GetDICOMUIDName()
INSTANCE_UID_NAME = _CONSTANTS.GetDICOMInstanceUIDName()
ATTRIBUTE_PREFIX = _CONSTANTS.GetDICOMAttributePrefix()
LEVEL_PATIENT = _CONSTANTS.GetDICOMLevelPatient()
LEVEL_STUDY = _CONSTANTS.GetDICOMLevelStudy()
MODALITY_ATTRIBUTE = _CONSTANTS.GetDICOMSeriesModalityAttributeName()
FRAME_OF_REFERENCE_UID_ATTRIBUTE = _CONSTANTS.GetDICOMFrameOfReferenceUIDAttributeName()

#: Keywords stored on the patient item; the rest of SeriesReference.attributes goes to the
#: study or the series item.
PATIENT_KEYWORDS = (*_CONSTANTS.GetDICOMPatientTagNames(), "OtherPatientIDs")
STUDY_KEYWORDS = (
    *(k for k in _CONSTANTS.GetDICOMStudyTagNames() if k != "StudyInstanceUID"),
    "AccessionNumber", "ReferringPhysicianName", "PatientAge",
)
#: SlicerRT reads these from the study item without the "DICOM." prefix (ExportDicomRTStudy).
UNPREFIXED_STUDY_KEYWORDS = (_CONSTANTS.GetDICOMStudyIDTagName(), _CONSTANTS.GetDICOMStudyInstanceUIDTagName())

ANONYMOUS_PATIENT_NAME = "Anonymous"
DEFAULT_STUDY_NAME = "Study"


@dataclass(frozen=True)
class HierarchyItems:
    """Item IDs of one placed series (0 means "none", as in the subject hierarchy)."""

    patient: int
    study: int
    series: int


def subject_hierarchy_node(scene: Any) -> Any:
    return slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)


def place_series(scene: Any, node: Any, reference: SeriesReference, instance_uids: list[str]) -> HierarchyItems:
    """Put ``node`` under its Patient and Study items, creating or reusing them.

    Parameters
    ----------
    scene
        The MRML scene holding ``node``.
    node
        The loaded volume; its own item becomes the series item.
    reference
        UIDs and attributes of the series.
    instance_uids
        SOP Instance UIDs in slice order; empty when the slices have none.
    """
    sh = subject_hierarchy_node(scene)
    patient = _patient_item(sh, reference)
    study = _study_item(sh, patient, reference)
    series = sh.GetItemByDataNode(node)  # Slicer's SH plugins create it; headless nothing does
    if series:
        sh.SetItemParent(series, study)
    else:
        series = sh.CreateItem(study, node)
    _set_series_item(sh, series, reference, instance_uids)
    return HierarchyItems(patient=patient, study=study, series=series)


def _patient_item(sh: Any, reference: SeriesReference) -> int:
    values = _values(reference, PATIENT_KEYWORDS)
    patient_id = values.get("PatientID", "")
    name = values.get("PatientName", "") or patient_id or ANONYMOUS_PATIENT_NAME
    item = sh.GetItemByUID(DICOM_UID_NAME, patient_id) if patient_id else _child_without_uid(
        sh, sh.GetSceneItemID(), name, LEVEL_PATIENT)
    if not item:
        item = sh.CreateSubjectItem(sh.GetSceneItemID(), name)
        if patient_id:
            sh.SetItemUID(item, DICOM_UID_NAME, patient_id)
    _set_missing_attributes(sh, item, {ATTRIBUTE_PREFIX + k: v for k, v in values.items()})
    return int(item)


def _study_item(sh: Any, patient: int, reference: SeriesReference) -> int:
    values = _values(reference, STUDY_KEYWORDS)
    study_uid = reference.study_instance_uid
    description = values.get("StudyDescription", "") or DEFAULT_STUDY_NAME
    study_date = values.get("StudyDate", "")
    name = f"{description} ({study_date})" if study_date else description
    item = sh.GetItemByUID(DICOM_UID_NAME, study_uid) if study_uid else _child_without_uid(
        sh, patient, name, LEVEL_STUDY)
    if not item:
        item = sh.CreateStudyItem(patient, name)
        if study_uid:
            sh.SetItemUID(item, DICOM_UID_NAME, study_uid)
    attributes = {ATTRIBUTE_PREFIX + k: v for k, v in values.items()}
    attributes[_CONSTANTS.GetDICOMStudyInstanceUIDAttributeName()] = study_uid
    unprefixed = {"StudyID": values.get("StudyID", ""), "StudyInstanceUID": study_uid}
    attributes.update({k: unprefixed[k] for k in UNPREFIXED_STUDY_KEYWORDS})
    _set_missing_attributes(sh, item, attributes)
    return int(item)


def _set_series_item(sh: Any, item: int, reference: SeriesReference, instance_uids: list[str]) -> None:
    if reference.series_instance_uid:
        sh.SetItemUID(item, DICOM_UID_NAME, reference.series_instance_uid)
    if instance_uids:
        sh.SetItemUID(item, INSTANCE_UID_NAME, " ".join(instance_uids))
    sh.SetItemAttribute(item, MODALITY_ATTRIBUTE, reference.modality)
    sh.SetItemAttribute(item, FRAME_OF_REFERENCE_UID_ATTRIBUTE, reference.frame_of_reference_uid)
    level_keywords = set(PATIENT_KEYWORDS) | set(STUDY_KEYWORDS)
    for keyword, value in reference.attributes.items():
        if keyword not in level_keywords:
            sh.SetItemAttribute(item, ATTRIBUTE_PREFIX + keyword, value)


def _values(reference: SeriesReference, keywords: tuple[str, ...]) -> dict[str, str]:
    return {k: reference.attributes[k] for k in keywords if k in reference.attributes}


def _child_without_uid(sh: Any, parent: int, name: str, level: str) -> int:
    """An anonymised item made earlier: same level and name, no DICOM UID."""
    children = vtkIdList()
    sh.GetItemChildren(parent, children)
    for index in range(children.GetNumberOfIds()):
        child = children.GetId(index)
        if (sh.GetItemLevel(child) == level and sh.GetItemName(child) == name
                and not sh.GetItemUID(child, DICOM_UID_NAME)):
            return int(child)
    return 0


def _set_missing_attributes(sh: Any, item: int, attributes: dict[str, str]) -> None:
    """Fill attributes the item lacks; never overwrite what a reused item already says."""
    for name, value in attributes.items():
        if not sh.GetItemAttribute(item, name):
            sh.SetItemAttribute(item, name, value)


def read_reference(scene: Any, node: Any, keywords: list[str] | None, frame_of_reference_uid: str) -> SeriesReference:
    """Rebuild the :class:`SeriesReference` of a placed volume from its subject-hierarchy items.

    ``keywords`` are the attribute keywords to return (all ``DICOM.<keyword>`` attributes of the
    three items when None, e.g. for a volume loaded by Slicer's DICOM module).
    """
    sh = subject_hierarchy_node(scene)
    series = sh.GetItemByDataNode(node)
    study = sh.GetItemAncestorAtLevel(series, LEVEL_STUDY) if series else 0
    patient = sh.GetItemAncestorAtLevel(series, LEVEL_PATIENT) if series else 0
    items = [i for i in (series, study, patient) if i]
    if keywords is None:
        keywords = _prefixed_keywords(sh, items)
    attributes = {k: _first_attribute(sh, items, ATTRIBUTE_PREFIX + k) for k in keywords}
    return SeriesReference(
        study_instance_uid=sh.GetItemUID(study, DICOM_UID_NAME) if study else "",
        series_instance_uid=sh.GetItemUID(series, DICOM_UID_NAME) if series else "",
        frame_of_reference_uid=frame_of_reference_uid or _first_attribute(sh, items[:1], FRAME_OF_REFERENCE_UID_ATTRIBUTE),
        modality=sh.GetItemAttribute(series, MODALITY_ATTRIBUTE) if series else "",
        attributes=attributes,
    )


def _prefixed_keywords(sh: Any, items: list[int]) -> list[str]:
    reserved = {MODALITY_ATTRIBUTE, FRAME_OF_REFERENCE_UID_ATTRIBUTE,
                _CONSTANTS.GetDICOMStudyInstanceUIDAttributeName(),
                _CONSTANTS.GetDICOMReferencedInstanceUIDsAttributeName()}
    keywords: list[str] = []
    for item in items:
        for name in sh.GetItemAttributeNames(item):
            if name.startswith(ATTRIBUTE_PREFIX) and name not in reserved:
                keyword = name[len(ATTRIBUTE_PREFIX):]
                if keyword not in keywords:
                    keywords.append(keyword)
    return keywords


def _first_attribute(sh: Any, items: list[int], name: str) -> str:
    for item in items:
        value = sh.GetItemAttribute(item, name)
        if value:
            return str(value)
    return ""
