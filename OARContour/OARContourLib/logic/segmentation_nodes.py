"""Core :class:`Structure` lists ↔ ``vtkMRMLSegmentationNode`` on a CT volume's grid.

Each structure becomes one binary-labelmap segment named and coloured like the structure; the
RTSTRUCT semantics that Slicer has no field for go into segment tags:

- ``OARContour.RTROIInterpretedType``: :class:`RoiType` value (``ORGAN``, ``EXTERNAL``, ...);
- ``OARContour.ROIGenerationAlgorithm``: :class:`GenerationAlgorithm` value;
- ``OARContour.ROIGenerationDescription``: free text.

Reading back, a segment without tags (drawn by hand, from TotalSegmentator, ...) takes its type
from :func:`~OARContourLib.naming.appearance.appearance` (tables, then rules on the name) and is ``MANUAL``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import slicer
import vtk

from .. import segment_tags
from ..errors import InputError
from ..mask_block import MaskBlock, crop
from ..naming.appearance import Appearance, appearance
from ..naming.tables import NamingTables, load_tables
from ..rtstruct.model import RoiType, Structure, full_mask  # noqa: F401 (re-exported for the Logic's callers)
from . import segment_layers, subject_hierarchy

logger = logging.getLogger(__name__)

# Re-exported: other Logic modules and tests name the tags through this module.
ROI_TYPE_TAG = segment_tags.ROI_TYPE_TAG
ALGORITHM_TAG = segment_tags.ALGORITHM_TAG
DESCRIPTION_TAG = segment_tags.DESCRIPTION_TAG


def create_segmentation_node(scene: Any, ct_node: Any, structures: Sequence[Structure], name: str) -> Any:
    """A new segmentation node on ``ct_node``'s grid holding ``structures``, placed beside the CT.

    Masks may be full-grid or cropped blocks with ``offset_kji`` (as :class:`Structure` allows).
    Structures that do not overlap share labelmap layers, as Slicer stores them.
    """
    segmentation_node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name)
    segmentation_node.CreateDefaultDisplayNodes()
    segmentation_node.SetReferenceImageGeometryParameterFromVolumeNode(ct_node)
    add_structures(segmentation_node, ct_node, structures)
    place_beside(scene, segmentation_node, ct_node)
    return segmentation_node


def add_structures(segmentation_node: Any, ct_node: Any, structures: Sequence[Structure]) -> list[str]:
    """Add ``structures`` as segments, packed into shared labelmap layers where they do not overlap."""
    blocks = [MaskBlock(np.asarray(s.mask, dtype=bool), s.offset_kji) for s in structures]
    shape = tuple(int(n) for n in reversed(ct_node.GetImageData().GetDimensions()))
    placed = segment_layers.shared_layers(blocks, shape, segment_layers.ijk_to_ras(ct_node))
    segmentation = segmentation_node.GetSegmentation()
    return [_add(segmentation, structure, *(layer or (None, 0))) for structure, layer in zip(structures, placed)]


def add_segment(segmentation_node: Any, ct_node: Any, structure: Structure, mask: np.ndarray | None = None,
                segment_id: str | None = None) -> str:
    """Add one segment with the structure's name, colour and tags, in a labelmap of its own block's extent.

    The voxels are ``mask`` (full CT grid, (k, j, i)) when given, else the structure's mask and offset.
    """
    block, offset = crop(np.asarray(structure.mask if mask is None else mask, dtype=bool))
    if mask is None:
        offset = tuple(a + b for a, b in zip(offset, structure.offset_kji))  # type: ignore[assignment]
    image = segment_layers.block_image(block, offset, segment_layers.ijk_to_ras(ct_node)) if block.size else None
    return _add(segmentation_node.GetSegmentation(), structure, image, 1, segment_id)


def _add(segmentation: Any, structure: Structure, image: Any, label: int, segment_id: str | None = None) -> str:
    """One segment holding ``image`` at ``label`` (an empty segment when ``image`` is None)."""
    rgb = tuple(float(c) / 255.0 for c in structure.color)
    new_id = segment_id or _free_id(segmentation, structure.name)
    if image is None:
        new_id = segmentation.AddEmptySegment(new_id, structure.name, rgb)
    else:
        segment = slicer.vtkSegment()
        segment.SetName(structure.name)
        segment.SetColor(*rgb)
        segment.SetLabelValue(label)
        segment.AddRepresentation(segment_layers.BINARY_LABELMAP, image)
        if not segmentation.AddSegment(segment, new_id):
            raise InputError(f"Segment '{structure.name}' could not be added to the segmentation.",
                             hint="Check that the segmentation accepts binary labelmaps.")
    segment = segmentation.GetSegment(new_id)
    for tag, value in segment_tags.tags_for(structure).items():
        segment.SetTag(tag, value)
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
    """Boolean (k, j, i) mask of one segment on ``ct_node``'s whole grid (see :func:`segment_blocks`)."""
    shape = tuple(int(n) for n in reversed(ct_node.GetImageData().GetDimensions()))
    return segment_blocks(segmentation_node, ct_node, [segment_id])[segment_id].full(shape)


def segment_blocks(segmentation_node: Any, ct_node: Any, ids: Sequence[str] | None = None) -> dict[str, MaskBlock]:
    """Segment ID → its voxels on ``ct_node``'s grid as a tight block (all segments by default).

    Each shared labelmap layer is read once and never copied whole; see :mod:`.segment_layers`.
    """
    return segment_layers.read_blocks(segmentation_node, ct_node, segment_ids(segmentation_node) if ids is None
                                      else list(ids))


def read_structures(segmentation_node: Any, ct_node: Any, tables: NamingTables | None = None,
                    crop_masks: bool = True) -> list[Structure]:
    """Every segment as a :class:`Structure` on the CT grid, its mask cropped to its block.

    With ``crop_masks=False`` the masks are full-grid arrays instead (one per segment: costly).
    """
    tables = tables or load_tables()
    segmentation = segmentation_node.GetSegmentation()
    shape = tuple(int(n) for n in reversed(ct_node.GetImageData().GetDimensions()))
    structures = []
    for segment_id, found in segment_blocks(segmentation_node, ct_node).items():
        segment = segmentation.GetSegment(segment_id)
        block, offset = (found.block, found.offset_kji) if crop_masks else (found.full(shape), (0, 0, 0))
        look = appearance_of(segment, tables)
        structures.append(Structure(
            name=segment.GetName(), mask=block, offset_kji=offset, color=look.color, roi_type=look.roi_type,
            algorithm=look.algorithm, description=look.description, code=look.code,
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


def appearance_of(segment: Any, tables: NamingTables | None = None) -> Appearance:
    """What the export writes for ``segment``: :func:`~OARContourLib.naming.appearance.appearance` of its
    name, tags and colour (the CLI's ``export`` asks the same function)."""
    return appearance(segment.GetName(), _tags(segment), color=color_of(segment), tables=tables)


def color_of(segment: Any) -> tuple[int, int, int]:
    r, g, b = segment.GetColor()
    return (round(r * 255), round(g * 255), round(b * 255))


def _free_id(segmentation: Any, name: str) -> str:
    candidate, number = name, 1
    while segmentation.GetSegment(candidate) is not None:
        number += 1
        candidate = f"{name}_{number}"
    return candidate
