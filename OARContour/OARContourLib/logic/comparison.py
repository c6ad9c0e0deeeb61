"""Segmentation nodes → the core's structure-set comparison, and back to a slice to look at.

Both segmentations are read onto one CT grid: the CT node given, else the reference
segmentation's reference-geometry volume (the CT it was made on). Masks stay cropped blocks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..compare import ComparisonResult, StructureSet, compare_structure_sets
from ..ct.model import ImageGeometry
from ..errors import InputError
from ..mask_grid import MaskInput
from ..progress import ProgressCallback
from . import navigation, segmentation_nodes, workflow


def grid_node(reference_node: Any, ct_node: Any = None) -> Any:
    """The volume whose grid the comparison uses.

    Raises
    ------
    InputError
        No ``ct_node`` and the reference segmentation names no reference volume.
    """
    if ct_node is not None:
        return ct_node
    role = reference_node.GetReferenceImageGeometryReferenceRole()
    node = reference_node.GetNodeReference(role)
    if node is None:
        raise InputError(f"Segmentation '{reference_node.GetName()}' names no CT to compare on.",
                         hint="Pass ctNode= (the CT both segmentations were drawn on).")
    return node


def geometry_of(volume_node: Any) -> ImageGeometry:
    """The node's grid as the core describes it: (k, j, i) shape, spacing, LPS origin and axes."""
    shape, _ = workflow.grid_of(volume_node)
    ijk_to_lps = workflow.ijk_to_lps_of(volume_node)
    spacing = tuple(float(s) for s in volume_node.GetSpacing())
    axes = ijk_to_lps[:3, :3] / np.asarray(spacing)
    return ImageGeometry(shape, (spacing[0], spacing[1], spacing[2]),
                         (float(ijk_to_lps[0, 3]), float(ijk_to_lps[1, 3]), float(ijk_to_lps[2, 3])),
                         tuple(tuple(float(v) for v in row) for row in axes))  # type: ignore[arg-type]


def structure_set(segmentation_node: Any, volume_node: Any) -> StructureSet:
    """Every segment as a cropped mask on ``volume_node``'s grid."""
    structures = segmentation_nodes.read_structures(segmentation_node, volume_node)
    return StructureSet(segmentation_node.GetName(),
                        tuple(MaskInput(s.name, s.mask, s.offset_kji, s.color) for s in structures))


def compare_segmentations(reference_node: Any, test_node: Any, *, tolerance_mm: float, ct_node: Any = None,
                          mapping: Mapping[str, str] | None = None,
                          progress: ProgressCallback | None = None) -> ComparisonResult:
    """:func:`~OARContourLib.compare.compare_structure_sets` of two segmentation nodes."""
    volume = grid_node(reference_node, ct_node)
    return compare_structure_sets(structure_set(reference_node, volume), structure_set(test_node, volume),
                                  geometry_of(volume), tolerance_mm=tolerance_mm, mapping=mapping, progress=progress)


def jump_to_pair(reference_node: Any, reference_name: str, slice_index: int | None,
                 ct_node: Any = None) -> navigation.JumpTarget | None:
    """Centre the slice views on a reference structure on its slice of largest disagreement."""
    volume = grid_node(reference_node, ct_node)
    target = navigation.jump_target(reference_node, volume, reference_name, slice_index)
    if target is not None:
        navigation.jump_slices(volume.GetScene(), target.ras_mm)
    return target
