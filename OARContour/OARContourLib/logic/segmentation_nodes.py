"""Core :class:`Structure` lists ↔ ``vtkMRMLSegmentationNode`` on a CT volume's grid.

Each structure becomes one binary-labelmap segment named and coloured like the structure; the
RTSTRUCT semantics that Slicer has no field for go into segment tags:

- ``OARContour.RTROIInterpretedType``: :class:`RoiType` value (``ORGAN``, ``EXTERNAL``, ...);
- ``OARContour.ROIGenerationAlgorithm``: :class:`GenerationAlgorithm` value;
- ``OARContour.ROIGenerationDescription``: free text.

Reading back, a segment without tags (drawn by hand, from TotalSegmentator, ...) takes its type
from the naming tables' default for its name, else ``ORGAN``, and is ``MANUAL``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import slicer
import slicer.util
import vtk

from .. import segment_tags
from ..errors import InputError
from ..mask_block import crop
from ..naming.tables import NamingTables, load_tables
from ..rtstruct.model import RoiType, Structure, full_mask
from . import subject_hierarchy

logger = logging.getLogger(__name__)

# Re-exported: other Logic modules and tests name the tags through this module.
ROI_TYPE_TAG = segment_tags.ROI_TYPE_TAG
ALGORITHM_TAG = segment_tags.ALGORITHM_TAG
DESCRIPTION_TAG = segment_tags.DESCRIPTION_TAG


def create_segmentation_node(scene: Any, ct_node: Any, structures: Sequence[Structure], name: str) -> Any:
    """A new segmentation node on ``ct_node``'s grid holding ``structures``, placed beside the CT.

    Masks may be full-grid or cropped blocks with ``offset_kji`` (as :class:`Structure` allows).
    """
    segmentation_node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name)
    segmentation_node.CreateDefaultDisplayNodes()
    segmentation_node.SetReferenceImageGeometryParameterFromVolumeNode(ct_node)
    shape = slicer.util.arrayFromVolume(ct_node).shape
    for structure in structures:
        add_segment(segmentation_node, ct_node, structure, full_mask(structure, shape))
    place_beside(scene, segmentation_node, ct_node)
    return segmentation_node


def add_segment(segmentation_node: Any, ct_node: Any, structure: Structure, mask: np.ndarray,
                segment_id: str | None = None) -> str:
    """Add one segment (``mask`` on the CT grid, (k, j, i)) with the structure's name, colour and tags."""
    segmentation = segmentation_node.GetSegmentation()
    rgb = tuple(float(c) / 255.0 for c in structure.color)
    new_id = segmentation.AddEmptySegment(segment_id or _free_id(segmentation, structure.name), structure.name, rgb)
    segment = segmentation.GetSegment(new_id)
    for tag, value in segment_tags.tags_for(structure).items():
        segment.SetTag(tag, value)
    slicer.util.updateSegmentBinaryLabelmapFromArray(mask.astype(np.uint8), segmentation_node, new_id, ct_node)
    return str(new_id)


def place_beside(scene: Any, node: Any, ct_node: Any) -> None:
    """Put ``node``'s subject-hierarchy item under the CT's study (a sibling of the CT series)."""
    sh = subject_hierarchy.subject_hierarchy_node(scene)
    ct_item = sh.GetItemByDataNode(ct_node)
    parent = sh.GetItemParent(ct_item) if ct_item else sh.GetSceneItemID()
    item = sh.GetItemByDataNode(node)
    if item:
        sh.SetItemParent(item, parent)
    else:
        sh.CreateItem(parent, node)


def segment_ids(segmentation_node: Any) -> list[str]:
    """Segment IDs in display order."""
    segmentation = segmentation_node.GetSegmentation()
    return [segmentation.GetNthSegmentID(n) for n in range(segmentation.GetNumberOfSegments())]


def segment_mask(segmentation_node: Any, segment_id: str, ct_node: Any) -> np.ndarray:
    """Boolean (k, j, i) mask of one segment resampled exactly onto ``ct_node``'s grid."""
    array = slicer.util.arrayFromSegmentBinaryLabelmap(segmentation_node, segment_id, ct_node)
    if array is None:
        raise InputError(f"Segment '{segment_id}' has no binary labelmap.",
                         hint="Convert the segmentation to the binary labelmap representation first.")
    return np.asarray(array) > 0


def read_structures(segmentation_node: Any, ct_node: Any, tables: NamingTables | None = None,
                    crop_masks: bool = True) -> list[Structure]:
    """Every segment as a :class:`Structure` on the CT grid (cropped to its block when ``crop_masks``)."""
    tables = tables or load_tables()
    segmentation = segmentation_node.GetSegmentation()
    structures = []
    for segment_id in segment_ids(segmentation_node):
        segment = segmentation.GetSegment(segment_id)
        mask = segment_mask(segmentation_node, segment_id, ct_node)
        block, offset = crop(mask) if crop_masks else (mask, (0, 0, 0))
        tags = _tags(segment)
        structures.append(Structure(
            name=segment.GetName(), mask=block, offset_kji=offset, color=color_of(segment),
            roi_type=roi_type_of(segment, tables), algorithm=segment_tags.algorithm_from(tags),
            description=segment_tags.description_from(tags),
        ))
    return structures


def _tags(segment: Any) -> dict[str, str]:
    """The segment's OARContour tags that are set (see :mod:`OARContourLib.segment_tags`)."""
    tags = {}
    for name in (ROI_TYPE_TAG, ALGORITHM_TAG, DESCRIPTION_TAG):
        value = vtk.reference("")
        if segment.GetTag(name, value) and str(value):
            tags[name] = str(value)
    return tags


def roi_type_of(segment: Any, tables: NamingTables) -> RoiType:
    """The tagged RT ROI type, else the naming tables' default for the name, else ORGAN."""
    default = tables.default_for(segment.GetName())
    return segment_tags.roi_type_from(_tags(segment), default.roi_type if default is not None else RoiType.ORGAN)


def color_of(segment: Any) -> tuple[int, int, int]:
    r, g, b = segment.GetColor()
    return (round(r * 255), round(g * 255), round(b * 255))


def _free_id(segmentation: Any, name: str) -> str:
    candidate, number = name, 1
    while segmentation.GetSegment(candidate) is not None:
        number += 1
        candidate = f"{name}_{number}"
    return candidate
