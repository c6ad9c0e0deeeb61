"""What goes into an RTSTRUCT and what comes back from writing one."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..findings import Finding
from ..mask_block import paste
from .contours import HoleEncoding
from .profiles import EmptyRoiPolicy


class RoiType(str, enum.Enum):
    """RT ROI Interpreted Type (3006,00A4) defined terms."""

    EXTERNAL = "EXTERNAL"
    PTV = "PTV"
    CTV = "CTV"
    GTV = "GTV"
    TREATED_VOLUME = "TREATED_VOLUME"
    IRRAD_VOLUME = "IRRAD_VOLUME"
    BOLUS = "BOLUS"
    AVOIDANCE = "AVOIDANCE"
    ORGAN = "ORGAN"
    MARKER = "MARKER"
    REGISTRATION = "REGISTRATION"
    ISOCENTER = "ISOCENTER"
    CONTRAST_AGENT = "CONTRAST_AGENT"
    CAVITY = "CAVITY"
    BRACHY_CHANNEL = "BRACHY_CHANNEL"
    BRACHY_ACCESSORY = "BRACHY_ACCESSORY"
    BRACHY_SRC_APP = "BRACHY_SRC_APP"
    BRACHY_CHNL_SHLD = "BRACHY_CHNL_SHLD"
    SUPPORT = "SUPPORT"
    FIXATION = "FIXATION"
    DOSE_REGION = "DOSE_REGION"
    CONTROL = "CONTROL"
    DOSE_MEASUREMENT = "DOSE_MEASUREMENT"


class ExportEngine(str, enum.Enum):
    """What writes the RTSTRUCT: OARContour's writer, or SlicerRT's exporter driven by the Slicer Logic."""

    BUILTIN = "builtin"
    SLICERRT = "slicerrt"


class GenerationAlgorithm(str, enum.Enum):
    """ROI Generation Algorithm (3006,0036) defined terms."""

    AUTOMATIC = "AUTOMATIC"
    SEMIAUTOMATIC = "SEMIAUTOMATIC"
    MANUAL = "MANUAL"


@dataclass(frozen=True)
class CodedConcept:
    """A code (e.g. SNOMED CT ``SCT``) as written into code sequences."""

    value: str
    scheme: str
    meaning: str


@dataclass(frozen=True)
class Structure:
    """One ROI to write: a boolean mask plus its DICOM semantics.

    ``mask`` is either the full CT grid (k, j, i) or a block of it starting at ``offset_kji``
    (e.g. cropped to the structure's bounding box).
    """

    name: str
    mask: np.ndarray
    offset_kji: tuple[int, int, int] = (0, 0, 0)
    color: tuple[int, int, int] = (255, 0, 0)
    roi_type: RoiType = RoiType.ORGAN
    algorithm: GenerationAlgorithm = GenerationAlgorithm.AUTOMATIC
    description: str = ""
    code: CodedConcept | None = None
    laterality: CodedConcept | None = None


def full_mask(structure: Structure, shape: tuple[int, ...]) -> np.ndarray:
    """The structure's mask on the whole CT grid (k, j, i), whether it is stored full or as a block."""
    return paste(structure.mask, structure.offset_kji, shape)


@dataclass(frozen=True)
class ExportOptions:
    """Choices for one RTSTRUCT; ``None`` means "as the TPS profile says"."""

    tps: str = "generic"
    structure_set_label: str = "OARContour"
    series_description: str = "OARContour structures"
    hole_encoding: HoleEncoding | None = None
    simplify_tolerance_mm: float = 0.0
    empty_roi_policy: EmptyRoiPolicy | None = None
    write_codes: bool | None = None
    approval_status: str = "UNAPPROVED"
    operators_name: str = ""
    overwrite: bool = False


@dataclass(frozen=True)
class RoiSummary:
    number: int
    name: str
    roi_type: str
    contours: int
    points: int
    written: bool

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ExportReport:
    """What was written, and every warning raised on the way (empty ROIs, clipping, splitting)."""

    path: str
    sop_instance_uid: str
    series_instance_uid: str
    profile: str
    rois: tuple[RoiSummary, ...]
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sop_instance_uid": self.sop_instance_uid,
                "series_instance_uid": self.series_instance_uid, "profile": self.profile,
                "rois": [r.to_dict() for r in self.rois], "findings": [f.to_dict() for f in self.findings],
                "seconds": round(self.seconds, 3)}
