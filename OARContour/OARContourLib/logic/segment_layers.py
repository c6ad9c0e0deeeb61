"""Segments ↔ bounding-box blocks, the way Slicer stores them: binary-labelmap layers shared by segments.

In a segmentation node, segments that do not overlap share one labelmap image (a *layer*), each
segment with its own label value; a layer may have any extent, and even another geometry than the
CT. Going through a full-grid labelmap node per segment (``slicer.util.arrayFromSegmentBinaryLabelmap``)
copies the whole grid once per segment and adds a temporary node to ``slicer.mrmlScene``; here:

- **reading** looks at each layer once, without copying it: one pass finds every label's bounding
  box (``scipy.ndimage.find_objects``), then each segment is cut out of its box and clipped to the
  CT grid. A layer on another geometry (origin, spacing, axes; Slicer's ``DoGeometriesMatch``) or
  under another transform than the CT is first put on the CT grid by the same Slicer call the
  full-grid path uses (``GenerateMergedLabelmapInReferenceGeometry``, nearest neighbour), so the
  voxels are the same;
- **writing** makes each block a ``vtkOrientedImageData`` on the CT geometry with the block's extent;
  a new node's structures are packed into shared layers first-fit (as Slicer's
  ``CollapseBinaryLabelmaps`` would, without its cost that grows with the square of the count).

Nothing is added to any scene.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import slicer
import vtk
from scipy import ndimage
from vtk.util import numpy_support

from ..errors import InputError
from ..mask_block import MaskBlock

BINARY_LABELMAP = "Binary labelmap"
#: Labels in one shared uint8 layer (0 is background).
MAX_LABELS_PER_LAYER = 255
EMPTY = MaskBlock(np.zeros((0, 0, 0), dtype=bool))


# --------------------------------------------------------------------------------------------- reading

def read_blocks(segmentation_node: Any, ct_node: Any, segment_ids: Sequence[str]) -> dict[str, MaskBlock]:
    """Each segment's voxels on ``ct_node``'s grid as a tight block (empty segments: :data:`EMPTY`).

    Raises
    ------
    InputError
        An unknown segment ID, or a segmentation that cannot be converted to binary labelmaps.
    """
    segmentation = segmentation_node.GetSegmentation()
    if segment_ids and not segmentation.CreateRepresentation(BINARY_LABELMAP):
        raise InputError(f"Segmentation '{segmentation_node.GetName()}' has no binary labelmap.",
                         hint="Convert the segmentation to the binary labelmap representation first.")
    shape = tuple(int(n) for n in reversed(ct_node.GetImageData().GetDimensions()))
    reference = reference_geometry(ct_node)
    same_space = _parent_id(segmentation_node) == _parent_id(ct_node)
    blocks: dict[str, MaskBlock] = {}
    for image, labels in _layers(segmentation, segment_ids):
        if image is None or image.IsEmpty():
            continue
        if not (same_space and slicer.vtkOrientedImageDataResample.DoGeometriesMatch(image, reference)):
            image = _merged_on_reference(segmentation_node, ct_node, labels)
        blocks.update(_layer_blocks(*_image_array(image), shape, labels))
    return {segment_id: blocks.get(segment_id, EMPTY) for segment_id in segment_ids}


def reference_geometry(ct_node: Any) -> Any:
    """A ``vtkOrientedImageData`` (not allocated) with the CT's IJK→RAS geometry and extent."""
    geometry = slicer.vtkOrientedImageData()
    geometry.SetExtent(ct_node.GetImageData().GetExtent())
    geometry.SetImageToWorldMatrix(ijk_to_ras(ct_node))
    return geometry


def ijk_to_ras(ct_node: Any) -> vtk.vtkMatrix4x4:
    matrix = vtk.vtkMatrix4x4()
    ct_node.GetIJKToRASMatrix(matrix)
    return matrix


def _parent_id(node: Any) -> str:
    parent = node.GetParentTransformNode()
    return parent.GetID() if parent is not None else ""


def _layers(segmentation: Any, segment_ids: Sequence[str]) -> list[tuple[Any, dict[str, int]]]:
    """(layer image, segment ID → label value) per distinct labelmap object, in segment order."""
    groups: dict[str, tuple[Any, dict[str, int]]] = {}
    for segment_id in segment_ids:
        segment = segmentation.GetSegment(segment_id)
        if segment is None:
            raise InputError(f"No segment '{segment_id}' in the segmentation.", hint="Pick one of its segments.")
        image = segment.GetRepresentation(BINARY_LABELMAP)
        key = image.GetAddressAsString("vtkOrientedImageData") if image is not None else f"none {segment_id}"
        groups.setdefault(key, (image, {}))[1][segment_id] = int(segment.GetLabelValue())
    return list(groups.values())


def _merged_on_reference(segmentation_node: Any, ct_node: Any, labels: dict[str, int]) -> Any:
    """The layer's segments resampled onto the CT grid by Slicer (each keeps its label value)."""
    ids, values = vtk.vtkStringArray(), vtk.vtkIntArray()
    for segment_id, label in labels.items():
        ids.InsertNextValue(segment_id)
        values.InsertNextValue(label)
    merged = slicer.vtkOrientedImageData()
    slicer.vtkSlicerSegmentationsModuleLogic.GenerateMergedLabelmapInReferenceGeometry(
        segmentation_node, ct_node, ids, slicer.vtkSegmentation.EXTENT_REFERENCE_GEOMETRY, merged, values)
    return merged


def _image_array(image: Any) -> tuple[np.ndarray, tuple[int, int, int]]:
    """The image's voxels as a (k, j, i) view (no copy) and the (k, j, i) index of its first voxel."""
    i0, i1, j0, j1, k0, k1 = image.GetExtent()
    scalars = image.GetPointData().GetScalars()
    if scalars is None or i1 < i0 or j1 < j0 or k1 < k0:
        return np.zeros((0, 0, 0), dtype=np.uint8), (0, 0, 0)
    array = numpy_support.vtk_to_numpy(scalars)
    if array.ndim > 1:  # several components: Slicer's labelmaps use the first
        array = array[:, 0]
    return array.reshape(k1 - k0 + 1, j1 - j0 + 1, i1 - i0 + 1), (k0, j0, i0)


def _layer_blocks(array: np.ndarray, first_kji: tuple[int, int, int], shape: tuple[int, ...],
                  labels: dict[str, int]) -> dict[str, MaskBlock]:
    """Each label's voxels inside the CT grid as a tight block, from one pass over the layer."""
    start = [max(f, 0) for f in first_kji]
    stop = [min(f + n, size) for f, n, size in zip(first_kji, array.shape, shape)]
    if any(b <= a for a, b in zip(start, stop)):
        return {}
    inside = array[tuple(slice(a - f, b - f) for a, b, f in zip(start, stop, first_kji))]
    wanted = [v for v in labels.values() if v > 0]
    if not wanted:
        return {}
    if np.issubdtype(inside.dtype, np.integer):
        boxes = ndimage.find_objects(inside, max_label=max(wanted))
    else:  # a float layer (rare): boxes label by label
        boxes = [_box(inside == v) if v in wanted else None for v in range(1, max(wanted) + 1)]
    blocks = {}
    for segment_id, label in labels.items():
        box = boxes[label - 1] if 0 < label <= len(boxes) else None
        if box is not None:
            block = np.ascontiguousarray(inside[box] == label)
            blocks[segment_id] = MaskBlock(block, tuple(a + s.start for a, s in zip(start, box)))  # type: ignore[arg-type]
    return blocks


def _box(mask: np.ndarray) -> tuple[slice, ...] | None:
    found = ndimage.find_objects(mask.astype(np.uint8), max_label=1)
    return found[0] if found else None


# --------------------------------------------------------------------------------------------- writing

def block_image(block: np.ndarray, offset_kji: Sequence[int], matrix: vtk.vtkMatrix4x4, label: int = 1) -> Any:
    """A ``vtkOrientedImageData`` holding ``label`` where ``block`` is set, on the CT geometry at its offset."""
    data = np.where(np.asarray(block, dtype=bool), np.uint8(label), np.uint8(0))
    return _image(data, offset_kji, matrix)


def shared_layers(blocks: Sequence[MaskBlock], shape: tuple[int, ...], matrix: vtk.vtkMatrix4x4,
                  ) -> list[tuple[Any, int] | None]:
    """Per block: (shared layer image, label value), first fit into layers it does not overlap; None if empty."""
    layers: list[_Layer] = []
    placed: list[tuple[int, int] | None] = []
    for item in blocks:
        if item.voxels == 0:
            placed.append(None)
            continue
        window = tuple(slice(o, o + n) for o, n in zip(item.offset_kji, item.block.shape))
        number = next((n for n, layer in enumerate(layers) if layer.accepts(window, item.block)), None)
        if number is None:
            layers.append(_Layer(np.zeros(shape, dtype=np.uint8)))
            number = len(layers) - 1
        placed.append((number, layers[number].add(window, item.block)))
    images = [_image(layer.labels[layer.box()], [s.start for s in layer.box()], matrix) for layer in layers]
    return [None if p is None else (images[p[0]], p[1]) for p in placed]


class _Layer:
    """A shared uint8 labelmap being filled, and the bounding box of what it holds."""

    def __init__(self, labels: np.ndarray) -> None:
        self.labels = labels
        self.count = 0
        self.lo = list(labels.shape)
        self.hi = [0, 0, 0]

    def accepts(self, window: tuple[slice, ...], block: np.ndarray) -> bool:
        return self.count < MAX_LABELS_PER_LAYER and not np.logical_and(self.labels[window], block).any()

    def add(self, window: tuple[slice, ...], block: np.ndarray) -> int:
        self.count += 1
        self.labels[window][block] = self.count
        self.lo = [min(a, s.start) for a, s in zip(self.lo, window)]
        self.hi = [max(b, s.stop) for b, s in zip(self.hi, window)]
        return self.count

    def box(self) -> tuple[slice, ...]:
        return tuple(slice(a, b) for a, b in zip(self.lo, self.hi))


def _image(data: np.ndarray, offset_kji: Sequence[int], matrix: vtk.vtkMatrix4x4) -> Any:
    k0, j0, i0 = (int(o) for o in offset_kji)
    n_k, n_j, n_i = data.shape
    image = slicer.vtkOrientedImageData()
    image.SetImageToWorldMatrix(matrix)
    image.SetExtent(i0, i0 + n_i - 1, j0, j0 + n_j - 1, k0, k0 + n_k - 1)
    scalars = numpy_support.numpy_to_vtk(np.ascontiguousarray(data, dtype=np.uint8).ravel(), deep=True,
                                         array_type=vtk.VTK_UNSIGNED_CHAR)
    image.GetPointData().SetScalars(scalars)
    return image
