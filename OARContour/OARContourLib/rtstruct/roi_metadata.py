"""ROI semantics that SlicerRT's exporter cannot write, set afterwards on the RTSTRUCT dataset.

SlicerRT hands Plastimatch only each segment's name and colour, so RT ROI Interpreted Type, ROI
Generation Algorithm and ROI Interpreter come out empty. Planning systems read the ROI type from
them (ORGAN, EXTERNAL, AVOIDANCE, ...), so they are filled in from what OARContour knows about each
structure, matched by ROI Name and then by ROI Number (never by sequence position).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pydicom.dataset import Dataset

from ..errors import InputError
from ..findings import Finding, Severity
from .model import GenerationAlgorithm, RoiType, Structure

#: ROIGenerationDescription is LO; ROIObservationLabel is SH.
DESCRIPTION_MAX_CHARS = 64
OBSERVATION_LABEL_MAX_CHARS = 16


@dataclass(frozen=True)
class RoiMetadata:
    """What one ROI should say about itself in the structure set."""

    roi_type: RoiType
    algorithm: GenerationAlgorithm
    description: str = ""
    interpreter: str = ""


def metadata_of(structures: Iterable[Structure]) -> dict[str, RoiMetadata]:
    """ROI name → metadata of the structures an export started from."""
    return {s.name: RoiMetadata(s.roi_type, s.algorithm, s.description) for s in structures}


def apply_roi_metadata(ds: Dataset, metadata: Mapping[str, RoiMetadata]) -> list[Finding]:
    """Set type, algorithm, description and interpreter of every ROI in ``ds`` (edited in place).

    Returns
    -------
    list of Finding
        One warning per structure in ``metadata`` that the file does not contain (SlicerRT drops
        empty segments without a word).

    Raises
    ------
    InputError
        An ROI of the file has no entry in ``metadata`` (it would keep an empty type).
    """
    names = {int(roi.ROINumber): str(roi.ROIName) for roi in ds.get("StructureSetROISequence", [])}
    present = set(names.values())
    unknown = sorted(present - set(metadata))
    if unknown:
        raise InputError(f"The RTSTRUCT holds ROIs with no known type: {', '.join(unknown)}.",
                         hint="Pass metadata for every segment exported (names must match the segment names).")
    for roi in ds.StructureSetROISequence:
        _set_roi(roi, metadata[str(roi.ROIName)])
    for observation in ds.get("RTROIObservationsSequence", []):
        name = names.get(int(observation.ReferencedROINumber))
        if name is not None:
            _set_observation(observation, name, metadata[name])
    return [_dropped(name) for name in metadata if name not in present]


def _set_roi(roi: Dataset, metadata: RoiMetadata) -> None:
    roi.ROIGenerationAlgorithm = metadata.algorithm.value
    if metadata.description:
        roi.ROIGenerationDescription = metadata.description[:DESCRIPTION_MAX_CHARS]


def _set_observation(observation: Dataset, name: str, metadata: RoiMetadata) -> None:
    observation.RTROIInterpretedType = metadata.roi_type.value
    observation.ROIInterpreter = metadata.interpreter
    if not observation.get("ROIObservationLabel"):
        observation.ROIObservationLabel = name[:OBSERVATION_LABEL_MAX_CHARS]


def _dropped(name: str) -> Finding:
    return Finding("ROI_NOT_EXPORTED", Severity.WARNING,
                   f"Structure '{name}' is not in the RTSTRUCT SlicerRT wrote (SlicerRT drops empty segments).",
                   roi_name=name, hint="Check that the segment is not empty, or use engine='builtin'.")
