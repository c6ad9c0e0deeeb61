"""What the phantom builder takes and returns: variants, patient positions, volumes and results."""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..ct.model import ImageGeometry
from ..errors import InputError

logger = logging.getLogger(__name__)

_E = TypeVar("_E", bound=enum.Enum)


def parse_choice(enum_type: type[_E], value: _E | str, what: str) -> _E:
    """``value`` as a member of ``enum_type`` (case-insensitive for strings).

    Raises
    ------
    InputError
        When ``value`` names no member; the hint lists the allowed values.
    """
    if isinstance(value, enum_type):
        return value
    for member in enum_type:
        if str(value).strip().lower() == str(member.value).lower():
            return member
    allowed = ", ".join(str(m.value) for m in enum_type)
    raise InputError(f"Unknown {what} {value!r}.", hint=f"Use one of: {allowed}.")


class PhantomVariant(str, enum.Enum):
    """Which body region the phantom covers."""

    THORAX = "thorax"
    HEADNECK = "headneck"


class PatientPosition(str, enum.Enum):
    """DICOM Patient Position (0018,5100) of the scan; the anatomy stays correct in LPS for each."""

    HFS = "HFS"
    HFP = "HFP"
    FFS = "FFS"
    FFP = "FFP"

    @property
    def axis_signs(self) -> tuple[float, float, float]:
        """LPS direction of the column (i), row (j) and slice-normal (k) axes, as signs of x, y, z.

        The scanner's image axes are fixed (columns to the viewer's right, rows toward the floor);
        turning the patient prone flips x and y, turning them feet-first flips x and z.
        """
        return {
            PatientPosition.HFS: (1.0, 1.0, 1.0),
            PatientPosition.HFP: (-1.0, -1.0, 1.0),
            PatientPosition.FFS: (-1.0, 1.0, -1.0),
            PatientPosition.FFP: (1.0, -1.0, -1.0),
        }[self]

    @property
    def image_orientation_patient(self) -> tuple[float, float, float, float, float, float]:
        sx, sy, _ = self.axis_signs
        return (sx, 0.0, 0.0, 0.0, sy, 0.0)


@dataclass(frozen=True, eq=False)
class PhantomVolume:
    """A phantom in memory.

    ``hu`` is int16 (k, j, i) in Hounsfield units (-3024 outside the reconstruction circle);
    ``masks`` maps each TG-263 structure name to a bool (k, j, i) array on the same grid;
    ``couch`` marks the table (never part of ``Body``).
    """

    variant: PhantomVariant
    patient_position: PatientPosition
    seed: int
    hu: np.ndarray
    masks: Mapping[str, np.ndarray]
    couch: np.ndarray
    geometry: ImageGeometry

    @property
    def structures(self) -> tuple[str, ...]:
        return tuple(self.masks)


@dataclass(frozen=True)
class PhantomResult:
    """Where :func:`write_phantom` put the CT series and the ground-truth masks, and their identity."""

    out_dir: Path
    ct_dir: Path
    truth_dir: Path
    structures: tuple[str, ...]
    geometry: ImageGeometry
    study_instance_uid: str
    series_instance_uid: str
    frame_of_reference_uid: str
    variant: PhantomVariant
    patient_position: PatientPosition
    seed: int
    truth_files: Mapping[str, Path] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "ct_dir": str(self.ct_dir),
            "truth_dir": str(self.truth_dir),
            "structures": list(self.structures),
            "truth_files": {name: path.name for name, path in self.truth_files.items()},
            "geometry": self.geometry.to_dict(),
            "study_instance_uid": self.study_instance_uid,
            "series_instance_uid": self.series_instance_uid,
            "frame_of_reference_uid": self.frame_of_reference_uid,
            "variant": self.variant.value,
            "patient_position": self.patient_position.value,
            "seed": self.seed,
        }
