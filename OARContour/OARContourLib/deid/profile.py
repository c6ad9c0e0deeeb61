"""The confidentiality profile OARContour applies: PS3.15 Annex E Basic Profile and its options.

Options chosen for an outsourced contouring service (recorded in every de-identified instance as
De-identification Method and its Code Sequence, CID 7050):

* Retain Patient Characteristics: sex, age, size and weight, because organ sizes and the QA's
  plausible volumes depend on them.
* Retain Device Identity: scanner model and station, to judge image quality and HU calibration.
* Retain Longitudinal Temporal Information with Modified Dates: every date shifted by one offset per
  patient, so intervals between a patient's studies stay true and no original date remains.

Not used: Retain UIDs (PS3.15 E.3.9 discourages it), Retain Institution Identity (institution and
referring physician are removed), Retain Safe Private (all private tags are removed), Clean
Descriptors (descriptions are removed instead). Clean Pixel Data is not claimed: only axial CT is
accepted, an image type without burned-in text.
"""

from __future__ import annotations

import csv
import enum
from dataclasses import dataclass
from functools import lru_cache

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence

from ..errors import OARContourError
from ..resources import resource_path

ACTIONS_FILE = "Deidentification/basic_profile_actions.csv"
METHOD = "OARContour: PS3.15 E.1 Basic Profile via dicognito 0.19"


class Action(enum.Enum):
    """What happens to one attribute, in Table E.1-1 letters."""

    REMOVE = "X"
    EMPTY = "Z"
    KEEP = "K"


class ProfileOption(enum.Enum):
    """CID 7050 codes (scheme DCM) of the profile and the options used."""

    BASIC = ("113100", "Basic Application Confidentiality Profile")
    MODIFIED_DATES = ("113107", "Retain Longitudinal Temporal Information Modified Dates Option")
    PATIENT_CHARACTERISTICS = ("113108", "Retain Patient Characteristics Option")
    DEVICE_IDENTITY = ("113109", "Retain Device Identity Option")

    @property
    def code(self) -> str:
        return self.value[0]

    @property
    def meaning(self) -> str:
        return self.value[1]


@dataclass(frozen=True)
class AttributeAction:
    """One row of the actions table."""

    keyword: str
    action: Action
    reason: str


@lru_cache(maxsize=1)
def attribute_actions() -> tuple[AttributeAction, ...]:
    """The attributes handled on top of dicognito (``Resources/Deidentification``), validated by row."""
    path = resource_path(ACTIONS_FILE)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    actions = []
    for number, row in enumerate(rows, start=2):
        try:
            actions.append(AttributeAction(row["keyword"], Action(row["action"]), row["reason"]))
        except (KeyError, ValueError) as exc:
            raise OARContourError(f"{path.name} row {number}: {exc}", hint="Fix the table (columns keyword,action,reason).",
                                  code="RESOURCE_INVALID") from exc
    return tuple(actions)


def kept_keywords() -> frozenset[str]:
    return frozenset(a.keyword for a in attribute_actions() if a.action is Action.KEEP)


def record_method(dataset: Dataset) -> None:
    """Write Patient Identity Removed, De-identification Method and its Code Sequence (PS3.3 C.7.1.1)."""
    dataset.PatientIdentityRemoved = "YES"
    dataset.DeidentificationMethod = METHOD
    codes = []
    for option in ProfileOption:
        item = Dataset()
        item.CodeValue = option.code
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = option.meaning
        codes.append(item)
    dataset.DeidentificationMethodCodeSequence = DicomSequence(codes)
    dataset.LongitudinalTemporalInformationModified = "MODIFIED"


__all__ = ["Action", "AttributeAction", "METHOD", "ProfileOption", "attribute_actions", "kept_keywords",
           "record_method"]
