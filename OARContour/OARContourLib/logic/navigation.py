"""Where a finding is: the RAS point of a segment on a CT slice, and moving the slice views there.

A finding names an ROI (a segment name) and, when known, the CT slice index k of the core's
(k, j, i) arrays, which is also the k of the Slicer volume loaded by ``loadCT``. The point is the
centre of the segment's voxels on that slice, else the centre of the slice, else the centre of the
whole segment, so a click always lands on something to look at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import slicer
import slicer.util
import vtk

from ..errors import InputError
from . import segmentation_nodes


@dataclass(frozen=True)
class JumpTarget:
    """A point to show: the segment (None when the ROI is not in the segmentation) and its slice.

    Attributes
    ----------
    ras_mm
        The point in RAS millimetres.
    ijk
        The same point as continuous voxel indices (i, j, k) of the CT.
    """

    segment_id: str | None
    slice_index: int | None
    ras_mm: tuple[float, float, float]
    ijk: tuple[float, float, float]

    def to_dict(self) -> dict[str, Any]:
        return {"segment_id": self.segment_id, "slice_index": self.slice_index, "ras_mm": list(self.ras_mm),
                "ijk": list(self.ijk)}


def segment_id_by_name(segmentation_node: Any, roi_name: str) -> str | None:
    """The first segment named ``roi_name`` (exact), else None."""
    segmentation = segmentation_node.GetSegmentation()
    for segment_id in segmentation_nodes.segment_ids(segmentation_node):
        if segmentation.GetSegment(segment_id).GetName() == roi_name:
            return segment_id
    return None


def jump_target(segmentation_node: Any, ct_node: Any, roi_name: str | None,
                slice_index: int | None) -> JumpTarget | None:
    """The point that shows ``roi_name`` on ``slice_index``; None when the finding has neither.

    Raises
    ------
    InputError
        ``slice_index`` is outside the CT.
    """
    shape = slicer.util.arrayFromVolume(ct_node).shape
    if slice_index is not None and not 0 <= slice_index < shape[0]:
        raise InputError(f"Slice {slice_index} is outside CT '{ct_node.GetName()}' ({shape[0]} slices).",
                         hint="The finding was made on another CT; run the check again on this one.")
    segment_id = segment_id_by_name(segmentation_node, roi_name) if roi_name and segmentation_node else None
    if segment_id is None and slice_index is None:
        return None
    mask = segmentation_nodes.segment_mask(segmentation_node, segment_id, ct_node) if segment_id else None
    ijk = _centre_ijk(mask, shape, slice_index)
    return JumpTarget(segment_id, slice_index, ijk_to_ras(ct_node, ijk), ijk)


def _centre_ijk(mask: np.ndarray | None, shape: tuple[int, ...], slice_index: int | None) -> tuple[float, float, float]:
    middle_j, middle_i = (shape[1] - 1) / 2.0, (shape[2] - 1) / 2.0
    if slice_index is not None:
        on_slice = mask[slice_index] if mask is not None else None
        if on_slice is None or not on_slice.any():
            return (middle_i, middle_j, float(slice_index))
        j, i = np.nonzero(on_slice)
        return (float(i.mean()), float(j.mean()), float(slice_index))
    assert mask is not None  # jump_target returns early without a segment and without a slice
    if not mask.any():
        return (middle_i, middle_j, (shape[0] - 1) / 2.0)
    k, j, i = np.nonzero(mask)
    return (float(i.mean()), float(j.mean()), float(k.mean()))


def ijk_to_ras(volume_node: Any, ijk: tuple[float, float, float]) -> tuple[float, float, float]:
    """Continuous (i, j, k) of ``volume_node`` → RAS mm (the node's IJKToRAS; no parent transform)."""
    matrix = vtk.vtkMatrix4x4()
    volume_node.GetIJKToRASMatrix(matrix)
    x, y, z, _ = matrix.MultiplyPoint((*ijk, 1.0))
    return (float(x), float(y), float(z))


def jump_slices(scene: Any, ras_mm: tuple[float, float, float]) -> int:
    """Centre every slice view of ``scene`` on ``ras_mm``; returns how many slice views there are."""
    slicer.vtkMRMLSliceNode.JumpAllSlices(scene, *ras_mm, slicer.vtkMRMLSliceNode.CenteredJumpSlice)
    return int(scene.GetNumberOfNodesByClass("vtkMRMLSliceNode"))
