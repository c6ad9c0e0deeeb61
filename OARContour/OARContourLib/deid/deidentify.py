"""De-identify CT instances with dicognito and the Annex E options of :mod:`.profile`.

dicognito replaces every UID (except class and transfer syntax UIDs), person name and known ID,
and shifts every date, walking all sequences. On top of it: private tags are removed, the
attributes of ``Resources/Deidentification/basic_profile_actions.csv`` are removed, emptied or
kept, and the method is recorded. Each patient gets one dicognito seed from the map, so a patient's
UIDs and date offset stay the same across studies. Every replaced UID is recorded in the map
*during* the replacement, which is what lets :mod:`.reidentify` walk back nested references.
Pixels and geometry are never touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pydicom.datadict import keyword_for_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from ..errors import InputError
from .map_store import DeidMap, UidEntry
from .profile import Action, attribute_actions, kept_keywords, record_method

#: Identifying values recorded per study (original -> pseudonym), for the audit and leak scans.
RECORDED_KEYWORDS = ("PatientName", "PatientID", "PatientBirthDate", "OtherPatientIDs", "AccessionNumber",
                     "StudyID", "InstitutionName", "ReferringPhysicianName", "StudyDate", "SeriesDate",
                     "AcquisitionDate", "ContentDate")


def is_instance_uid(element: DataElement) -> bool:
    """True for a UI element dicognito replaces: not a class UID, not the transfer syntax."""
    keyword = keyword_for_tag(element.tag) or ""
    return element.VR == "UI" and not keyword.endswith("ClassUID") and keyword != "TransferSyntaxUID"


def uid_values(element: DataElement) -> list[str]:
    value = element.value
    items = value if isinstance(value, (MultiValue, list)) else [value]
    return [str(v) for v in items if v]


class Deidentifier:
    """De-identifies datasets in place, recording every replacement in ``deid_map``."""

    def __init__(self, deid_map: DeidMap) -> None:
        self.deid_map = deid_map
        self._anonymizers: dict[str, Any] = {}
        self._uids: list[UidEntry] = []

    def deidentify(self, dataset: Dataset) -> None:
        """Apply the profile to ``dataset`` (and its file meta) in place; the map is updated."""
        patient_key = str(dataset.get("PatientID", "") or "")
        study_uid = str(dataset.get("StudyInstanceUID", ""))
        before = {keyword: _text(dataset, keyword) for keyword in RECORDED_KEYWORDS}
        dataset.remove_private_tags()
        dataset.walk(_profile_callback())
        self._anonymizer(patient_key).anonymize(dataset)
        record_method(dataset)
        self.deid_map.add_uids(self._uids)
        self._uids.clear()
        after = {keyword: _text(dataset, keyword) for keyword in RECORDED_KEYWORDS}
        self.deid_map.add_identifiers(patient_key, study_uid,
                                      [(k, before[k], after[k]) for k in RECORDED_KEYWORDS if before[k]])

    def _anonymizer(self, patient_key: str) -> Any:
        if patient_key not in self._anonymizers:
            self._anonymizers[patient_key] = _build_anonymizer(self.deid_map.seed_for(patient_key), patient_key,
                                                               self._uids)
        return self._anonymizers[patient_key]


def _text(dataset: Dataset, keyword: str) -> str:
    value = dataset.get(keyword, "")
    if isinstance(value, MultiValue):
        return "\\".join(str(v) for v in value)
    return "" if value is None else str(value)


def _profile_callback() -> Callable[[Dataset, DataElement], None]:
    actions = {a.keyword: a.action for a in attribute_actions()}

    def apply(dataset: Dataset, element: DataElement) -> None:
        action = actions.get(element.keyword or "")
        if action is Action.REMOVE:
            del dataset[element.tag]
        elif action is Action.EMPTY:
            dataset[element.tag].value = None
    return apply


def _build_anonymizer(seed: str, patient_key: str, recorded: list[UidEntry]) -> Any:
    try:
        from dicognito.anonymizer import Anonymizer
        from dicognito.element_anonymizer import ElementAnonymizer
        from dicognito.randomizer import Randomizer
        from dicognito.uianonymizer import UIAnonymizer
    except ImportError as exc:
        raise InputError("De-identification needs dicognito, which is not installed.",
                         hint='Install the service extra: python -m pip install "oarcontour[service]"') from exc

    class RecordingUIAnonymizer(ElementAnonymizer):  # type: ignore[misc]
        """dicognito's UID replacement (same seed, same values), recording each pair for the map."""

        def __init__(self) -> None:
            self._inner = UIAnonymizer(Randomizer(seed))

        def __call__(self, dataset: Dataset, data_element: DataElement) -> bool:
            if not is_instance_uid(data_element) or not data_element.value:
                return False
            originals = uid_values(data_element)
            self._inner(dataset, data_element)
            keyword = data_element.keyword or str(data_element.tag)
            recorded.extend(UidEntry(new, old, patient_key, keyword)
                            for old, new in zip(originals, uid_values(data_element)))
            return True

        def describe_actions(self) -> Iterator[str]:
            yield "Replace instance UIDs as dicognito does, recording each for re-identification"

    class KeepRetained(ElementAnonymizer):  # type: ignore[misc]
        """Leaves the attributes of the retain options as they are."""

        def __init__(self) -> None:
            self._kept = kept_keywords()

        def __call__(self, dataset: Dataset, data_element: DataElement) -> bool:
            return (data_element.keyword or "") in self._kept

        def describe_actions(self) -> Iterator[str]:
            yield "Keep " + ", ".join(sorted(self._kept))

    anonymizer = Anonymizer(seed=seed)
    anonymizer.add_element_handler(RecordingUIAnonymizer())
    anonymizer.add_element_handler(KeepRetained())
    return anonymizer


__all__ = ["Deidentifier", "RECORDED_KEYWORDS", "is_instance_uid", "uid_values"]
