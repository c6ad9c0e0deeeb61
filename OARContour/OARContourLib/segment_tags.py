"""The segment tags that carry RTSTRUCT semantics Slicer segments have no field for.

One set of names for everything that writes or reads segments: the Slicer Logic (segment tags on a
``vtkMRMLSegmentationNode``), and the ``.seg.nrrd`` files of ``oarcontour autoseg`` and ``derive``
that ``oarcontour export`` reads back. A segment without tags (drawn by hand, made by another tool)
takes its type from the naming tables' default for its name, else ``ORGAN``, and is ``MANUAL``.
"""

from __future__ import annotations

from collections.abc import Mapping

from .rtstruct.model import GenerationAlgorithm, RoiType, Structure

ROI_TYPE_TAG = "OARContour.RTROIInterpretedType"
ALGORITHM_TAG = "OARContour.ROIGenerationAlgorithm"
DESCRIPTION_TAG = "OARContour.ROIGenerationDescription"


def tags_for(structure: Structure) -> dict[str, str]:
    """The tags that keep ``structure``'s RT ROI type, generation algorithm and description."""
    return {ROI_TYPE_TAG: structure.roi_type.value, ALGORITHM_TAG: structure.algorithm.value,
            DESCRIPTION_TAG: structure.description}


def roi_type_from(tags: Mapping[str, str], default: RoiType) -> RoiType:
    value = tags.get(ROI_TYPE_TAG)
    return RoiType(value) if value in RoiType._value2member_map_ else default


def algorithm_from(tags: Mapping[str, str]) -> GenerationAlgorithm:
    value = tags.get(ALGORITHM_TAG)
    return GenerationAlgorithm(value) if value in GenerationAlgorithm._value2member_map_ else GenerationAlgorithm.MANUAL


def description_from(tags: Mapping[str, str]) -> str:
    return tags.get(DESCRIPTION_TAG, "")
