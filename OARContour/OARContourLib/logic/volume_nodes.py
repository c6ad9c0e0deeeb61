"""Turn a core :class:`CTVolume` into a scalar volume node, and read its reference attributes back.

The node carries what a later RTSTRUCT export needs and Slicer has no other place for:

- ``DICOM.instanceUIDs``: SOP Instance UIDs in slice order, space-separated, as Slicer's DICOM
  scalar-volume plugin stores them;
- ``DICOM.FrameOfReferenceUID``: the name Slicer's subject-hierarchy constants give this attribute;
- ``OARContour.SOPClassUIDs`` (space-separated) and ``OARContour.SourceFiles`` (JSON list of paths),
  both in slice order;
- ``OARContour.ReferenceKeywords``: JSON list of the keywords in ``SeriesReference.attributes``,
  so that :func:`OARContourLib.logic.subject_hierarchy.read_reference` returns exactly those keys.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import slicer
import slicer.util

from ..ct.model import CTVolume

logger = logging.getLogger(__name__)

INSTANCE_UIDS_ATTRIBUTE = "DICOM.instanceUIDs"
FRAME_OF_REFERENCE_UID_ATTRIBUTE = slicer.vtkMRMLSubjectHierarchyConstants.GetDICOMFrameOfReferenceUIDAttributeName()
SOP_CLASS_UIDS_ATTRIBUTE = "OARContour.SOPClassUIDs"
SOURCE_FILES_ATTRIBUTE = "OARContour.SourceFiles"
REFERENCE_KEYWORDS_ATTRIBUTE = "OARContour.ReferenceKeywords"

#: Soft-tissue CT window (width, level) in HU.
CT_WINDOW_LEVEL_HU = (400.0, 40.0)
GREY_COLOR_NODE_ID = "vtkMRMLColorTableNodeGrey"
DEFAULT_VOLUME_NAME = "CT"


def volume_node_name(volume: CTVolume) -> str:
    """SeriesDescription, or "CT" when the series has none."""
    return volume.reference.attributes.get("SeriesDescription", "").strip() or DEFAULT_VOLUME_NAME


def create_ct_volume_node(scene: Any, volume: CTVolume, name: str) -> Any:
    """Add a ``vtkMRMLScalarVolumeNode`` holding ``volume.hu`` on its grid, with a CT display.

    The voxel type of ``volume.hu`` is kept (int16 stays int16), and the node's IJKToRAS is
    ``volume.geometry.ijk_to_ras()``.
    """
    node = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", name)
    node.SetIJKToRASMatrix(slicer.util.vtkMatrixFromArray(volume.geometry.ijk_to_ras()))
    slicer.util.updateVolumeFromArray(node, np.ascontiguousarray(volume.hu))
    if volume.reference.modality == "CT":
        _set_hounsfield_units(node)
    _add_ct_display(node)
    set_reference_attributes(node, volume)
    return node


def _set_hounsfield_units(node: Any) -> None:
    # The DICOM/UCUM codes of a CT voxel value, as Slicer's DICOM plugin assigns them.
    quantity = slicer.vtkCodedEntry()
    quantity.SetValueSchemeMeaning("112031", "DCM", "Attenuation Coefficient")
    units = slicer.vtkCodedEntry()
    units.SetValueSchemeMeaning("[hnsf'U]", "UCUM", "Hounsfield unit")
    node.SetVoxelValueQuantity(quantity)
    node.SetVoxelValueUnits(units)


def _add_ct_display(node: Any) -> None:
    # Made by hand rather than by CreateDefaultDisplayNodes(), which first computes an automatic
    # window from the histogram (0.18 s for 512x512x120) that the fixed CT window then replaces.
    scene = node.GetScene()
    display = scene.AddNewNodeByClass("vtkMRMLScalarVolumeDisplayNode")
    display.AutoWindowLevelOff()
    display.SetWindowLevel(*CT_WINDOW_LEVEL_HU)
    if scene.GetNodeByID(GREY_COLOR_NODE_ID) is not None:
        display.SetAndObserveColorNodeID(GREY_COLOR_NODE_ID)
    node.SetAndObserveDisplayNodeID(display.GetID())


def set_reference_attributes(node: Any, volume: CTVolume) -> None:
    """Store the per-slice UIDs, source files, Frame of Reference and keyword list on the node."""
    sop_instance_uids = [s.sop_instance_uid for s in volume.slices]
    if sop_instance_uids and all(sop_instance_uids):
        node.SetAttribute(INSTANCE_UIDS_ATTRIBUTE, " ".join(sop_instance_uids))
    sop_class_uids = [s.sop_class_uid for s in volume.slices]
    if sop_class_uids and all(sop_class_uids):
        node.SetAttribute(SOP_CLASS_UIDS_ATTRIBUTE, " ".join(sop_class_uids))
    if volume.reference.frame_of_reference_uid:
        node.SetAttribute(FRAME_OF_REFERENCE_UID_ATTRIBUTE, volume.reference.frame_of_reference_uid)
    node.SetAttribute(SOURCE_FILES_ATTRIBUTE, json.dumps([str(s.path) for s in volume.slices]))
    node.SetAttribute(REFERENCE_KEYWORDS_ATTRIBUTE, json.dumps(list(volume.reference.attributes)))


def instance_uids(node: Any) -> list[str]:
    """SOP Instance UIDs in slice order; empty when the series had none to store."""
    return (node.GetAttribute(INSTANCE_UIDS_ATTRIBUTE) or "").split()


def sop_class_uids(node: Any) -> list[str]:
    """SOP Class UIDs in slice order; empty when the series had none to store."""
    return (node.GetAttribute(SOP_CLASS_UIDS_ATTRIBUTE) or "").split()


def source_files(node: Any) -> list[str]:
    """Paths of the slice files in slice order; empty for nodes not loaded by OARContour."""
    return _json_list(node, SOURCE_FILES_ATTRIBUTE)


def reference_keywords(node: Any) -> list[str] | None:
    """The attribute keywords stored by :func:`set_reference_attributes`, or None if absent."""
    if node.GetAttribute(REFERENCE_KEYWORDS_ATTRIBUTE) is None:
        return None
    return _json_list(node, REFERENCE_KEYWORDS_ATTRIBUTE)


def _json_list(node: Any, attribute: str) -> list[str]:
    text = node.GetAttribute(attribute)
    if not text:
        return []
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        logger.warning("Attribute %s of node %s is not valid JSON; ignored", attribute, node.GetName())
        return []
    return [str(item) for item in value] if isinstance(value, list) else []
