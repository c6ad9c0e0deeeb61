"""Re-identify an RTSTRUCT returned by the service and verify it against the original CT.

Every UID element anywhere in the file (all sequences, file meta) is mapped back through the map;
a UID the map does not know refuses the whole file, except the structure set's own SOP Instance
and Series UIDs, which are replaced by new ones under the site's root anyway. The patient and
study modules are then copied from the *original CT* (never from the returned file), and the
result must pass :func:`OARContourLib.rtstruct.verify.verify_rtstruct` against that CT. Contour
points are never touched.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.uid import UID, generate_uid

from ..ct.load import REFERENCE_KEYWORDS
from ..ct.model import CTVolume
from ..ct.problems import Severity
from ..errors import InputError
from ..rtstruct.dataset import PATIENT_STUDY_KEYWORDS, RT_STRUCTURE_SET_STORAGE
from ..rtstruct.encoded_contours import CONTOUR_DATA
from ..rtstruct.parse import contour_points
from ..rtstruct.verify import VerificationReport, verify_rtstruct
from .deidentify import is_instance_uid, uid_values
from .map_store import DeidMap

#: Attributes the de-identification added; meaningless once the file is re-identified.
DEID_KEYWORDS = ("PatientIdentityRemoved", "DeidentificationMethod", "DeidentificationMethodCodeSequence",
                 "LongitudinalTemporalInformationModified")
#: Source masks for the round-trip check, or a function computing them when needed.
MasksOrFactory = Mapping[str, np.ndarray] | Callable[[], Mapping[str, np.ndarray]] | None
PATIENT_KEYWORDS = tuple(dict.fromkeys((*PATIENT_STUDY_KEYWORDS, "PatientAge", "OtherPatientIDs",
                                        "SpecificCharacterSet")))


class ReidentificationRefused(InputError):
    """The returned RTSTRUCT is held: unknown UIDs, another patient or a failed verification."""

    code = "REIDENTIFICATION_REFUSED"


@dataclass(frozen=True)
class Reidentified:
    """A re-identified structure set and its verification against the original CT."""

    dataset: Dataset
    report: VerificationReport
    uids_mapped: int

    def to_dict(self) -> dict[str, Any]:
        return {"sop_instance_uid": str(self.dataset.SOPInstanceUID), "uids_mapped": self.uids_mapped,
                "verification": self.report.to_dict()}


def reidentify(returned: Dataset, deid_map: DeidMap, ct: CTVolume, uid_root: str | None = None,
               tps: str = "generic", source_masks: MasksOrFactory = None) -> Reidentified:
    """Map ``returned`` back onto the original ``ct``; ``returned`` itself is not modified.

    ``source_masks`` (ROI name -> mask of the returned contours on the de-identified CT, which has
    the original's grid; or a function computing them, called only once the UIDs mapped back) adds
    the verifier's round-trip Dice check on the original CT.

    Raises
    ------
    ReidentificationRefused
        Not an RTSTRUCT; a UID unknown to the map; UIDs of another patient or study than ``ct``;
        the verifier finds an error (the message names the first ones).
    """
    _check_rtstruct(returned)
    dataset, mapped = map_back(returned, deid_map, ct.reference.attributes.get("PatientID", ""))
    check_points_untouched(returned, dataset)
    _restore_patient_and_study(dataset, ct)
    _new_identity(dataset, uid_root)
    masks = source_masks() if callable(source_masks) else source_masks
    report = verify_rtstruct(dataset, ct, tps, masks)
    errors = report.of_severity(Severity.ERROR)
    if errors:
        listed = "; ".join(f"{f.code}: {f.message}" for f in errors[:3])
        raise ReidentificationRefused(f"The re-identified RTSTRUCT fails verification against the original CT "
                                      f"({len(errors)} errors: {listed}).",
                                      hint="Held, not forwarded: ask the service to contour the CT it was sent.")
    return Reidentified(dataset, report, mapped)


def map_back(returned: Dataset, deid_map: DeidMap, patient_id: str) -> tuple[Dataset, int]:
    """A copy of ``returned`` with every UID element, at any depth, replaced by its original.

    The structure set's own SOP Instance and Series UIDs may be unknown (they are replaced later).

    Raises
    ------
    ReidentificationRefused
        A UID unknown to the map, or UIDs of another patient than ``patient_id``.
    """
    dataset = copy.deepcopy(returned)
    own = {str(returned.get("SOPInstanceUID", "")), str(returned.get("SeriesInstanceUID", ""))}
    mapper = _UidMapper(deid_map, own)
    dataset.file_meta.walk(mapper)
    _walk_skipping_points(dataset, mapper)
    mapper.raise_if_refused(patient_id)
    return dataset, mapper.mapped


def _walk_skipping_points(dataset: Dataset, callback: Callable[[Dataset, DataElement], None]) -> None:
    """``Dataset.walk`` without decoding Contour Data (the bulk of a structure set; never a UID)."""
    for tag in list(dataset.keys()):
        if tag == CONTOUR_DATA:
            continue
        element = dataset[tag]
        if element.VR == "SQ":
            for item in element.value or []:
                _walk_skipping_points(item, callback)
        else:
            callback(dataset, element)


def check_points_untouched(returned: Dataset, result: Dataset) -> None:
    """Refuse if any contour's points differ between the returned file and the result."""
    def points(ds: Dataset) -> list[np.ndarray | None]:
        return [contour_points(c) for rc in ds.get("ROIContourSequence", []) for c in rc.get("ContourSequence", [])]
    pairs = list(zip(points(returned), points(result)))
    if len(pairs) != len(points(returned)) or not all(
            (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b)) for a, b in pairs):
        raise ReidentificationRefused("Contour points changed during re-identification.", hint="Report this bug.")


def _check_rtstruct(dataset: Dataset) -> None:
    if str(dataset.get("SOPClassUID", "")) != RT_STRUCTURE_SET_STORAGE:
        raise ReidentificationRefused(f"The returned file is not an RTSTRUCT (Modality {dataset.get('Modality', 'none')}).",
                                      hint="Only RT Structure Sets are re-identified.")


class _UidMapper:
    """A pydicom walk callback replacing pseudonymous UIDs by their originals and noting unknown ones."""

    def __init__(self, deid_map: DeidMap, own: set[str]) -> None:
        self.deid_map = deid_map
        self.own = own
        self.unknown: list[str] = []
        self.patients: set[str] = set()
        self.mapped = 0

    def __call__(self, dataset: Dataset, element: DataElement) -> None:
        if not is_instance_uid(element) or not element.value:
            return
        values = []
        for value in uid_values(element):
            entry = None if value in self.own else self.deid_map.entry(value)
            if entry is None:
                if value not in self.own:
                    self.unknown.append(element.keyword or str(element.tag))
                values.append(value)
                continue
            self.patients.add(entry.patient_key)
            self.mapped += 1
            values.append(entry.original)
        element.value = values if len(values) > 1 else values[0]

    def raise_if_refused(self, patient_id: str) -> None:
        if self.unknown:
            where = ", ".join(sorted(set(self.unknown)))
            raise ReidentificationRefused(
                f"The returned RTSTRUCT refers to {len(self.unknown)} UID(s) the de-identification map does not know "
                f"(in {where}).", hint="Held, not forwarded: it does not belong to a CT this gateway sent out.")
        if len(self.patients) > 1 or (self.patients and self.patients != {patient_id}):
            raise ReidentificationRefused("The returned RTSTRUCT's UIDs belong to another patient than the original "
                                          "CT's (or to several).",
                                          hint="Held, not forwarded: give --ct the CT that was de-identified.")


def _restore_patient_and_study(dataset: Dataset, ct: CTVolume) -> None:
    attributes = ct.reference.attributes
    for keyword in DEID_KEYWORDS:
        if keyword in dataset:
            delattr(dataset, keyword)
    for keyword in PATIENT_KEYWORDS:
        value = attributes.get(keyword, "") if keyword in REFERENCE_KEYWORDS else ""
        if value or keyword in PATIENT_STUDY_KEYWORDS:
            setattr(dataset, keyword, value)
        elif keyword in dataset:
            delattr(dataset, keyword)
    dataset.StudyID = str(dataset.StudyID)[:16]
    if not dataset.get("SpecificCharacterSet"):
        dataset.SpecificCharacterSet = "ISO_IR 100"
    dataset.StudyInstanceUID = ct.reference.study_instance_uid


#: A root leaves room for the suffix generate_uid appends within the 64-character limit.
MAX_UID_ROOT_LENGTH = 32
_UID_ROOT = re.compile(r"[1-9][0-9]*(\.(0|[1-9][0-9]*))*")


def check_uid_root(value: object) -> str:
    """``value`` if it is a usable UID root (digits and dots, no leading zeros, <= 32 characters).

    Raises
    ------
    InputError
        Anything else; the message says what a root looks like.
    """
    if not isinstance(value, str) or not _UID_ROOT.fullmatch(value) or len(value) > MAX_UID_ROOT_LENGTH:
        raise InputError(f"{value!r} is not a UID root.",
                         hint=f"Digits and dots, e.g. 1.2.826.0.1.3680043.10.999 (at most {MAX_UID_ROOT_LENGTH} "
                              "characters).")
    return value


def _new_identity(dataset: Dataset, uid_root: str | None) -> None:
    prefix = None if uid_root is None else check_uid_root(uid_root) + "."
    dataset.SOPInstanceUID = generate_uid(prefix=prefix) if prefix else generate_uid()
    dataset.SeriesInstanceUID = generate_uid(prefix=prefix) if prefix else generate_uid()
    dataset.file_meta.MediaStorageSOPInstanceUID = UID(dataset.SOPInstanceUID)


__all__ = ["DEID_KEYWORDS", "Reidentified", "ReidentificationRefused", "check_points_untouched", "check_uid_root",
           "MasksOrFactory", "map_back", "reidentify"]
