"""Segment I/O on blocks against Slicer's own full-grid path, on real MRML (slicer-core).

The reference is ``slicer.util.arrayFromSegmentBinaryLabelmap`` (a temporary labelmap node per
segment, exported on the CT's whole grid): the block path must give the same voxels for shared
and overlapping segments, layers whose extent or geometry differs from the CT, transformed
segmentations, empty segments and segments on the grid border, and must add no node to any scene.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import slicer
import slicer.util
import vtk
from OARContourLib.logic import segment_layers, segmentation_nodes
from OARContourLib.mask_block import MaskBlock, crop
from OARContourLib.rtstruct.model import GenerationAlgorithm, RoiType, Structure

from .conftest import make_ct_volume

SHAPE = (9, 16, 19)


def _blob(rng: np.random.Generator, shape: tuple[int, ...], lo: tuple[int, ...], hi: tuple[int, ...]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    window = tuple(slice(a, b) for a, b in zip(lo, hi))
    mask[window] = rng.random(tuple(b - a for a, b in zip(lo, hi))) < 0.6
    return mask


def _structures(shape: tuple[int, ...]) -> list[Structure]:
    """Non-overlapping parcels, an overlapping Body and PRV, a border structure and an empty one."""
    rng = np.random.default_rng(7)
    parcels = [_blob(rng, shape, (1, 1, 1 + 4 * n), (7, 7, 4 + 4 * n)) for n in range(4)]
    body = _blob(rng, shape, (0, 0, 0), shape)
    prv = parcels[0] | parcels[1]
    border = np.zeros(shape, dtype=bool)
    border[0, :, 0] = border[-1, -1, :] = True  # first and last slice, first column, last row
    border[4, 10:, -1] = True
    structures = [Structure(f"Parcel{n}", *crop(mask), color=(10 * n, 200, 30)) for n, mask in enumerate(parcels)]
    structures += [Structure("Body", body, roi_type=RoiType.EXTERNAL), Structure("PRV", prv),
                   Structure("Border", *crop(border), algorithm=GenerationAlgorithm.MANUAL, description="edge"),
                   Structure("Empty", np.zeros((0, 0, 0), bool))]
    return structures


@pytest.fixture()
def ct_node(logic: Any, tmp_path) -> Any:
    return logic.addCTVolume(make_ct_volume(tmp_path, shape_kji=SHAPE))


def _old_path(seg_node: Any, ct_node: Any) -> dict[str, np.ndarray]:
    """Slicer's full-grid export of every segment (what the Logic used before)."""
    return {segment_id: np.asarray(slicer.util.arrayFromSegmentBinaryLabelmap(seg_node, segment_id, ct_node)) > 0
            for segment_id in segmentation_nodes.segment_ids(seg_node)}


def _assert_same_as_old_path(seg_node: Any, ct_node: Any) -> dict[str, MaskBlock]:
    expected = _old_path(seg_node, ct_node)
    blocks = segmentation_nodes.segment_blocks(seg_node, ct_node)
    assert list(blocks) == list(expected)
    for segment_id, mask in expected.items():
        np.testing.assert_array_equal(blocks[segment_id].full(mask.shape), mask, err_msg=segment_id)
        assert blocks[segment_id].block.shape == crop(mask)[0].shape  # tight blocks, as crop() gives
    return blocks


def test_written_structures_share_layers_and_read_back_exactly(scene, ct_node) -> None:
    structures = _structures(SHAPE)
    node = segmentation_nodes.create_segmentation_node(scene, ct_node, structures, "OARs")
    segmentation = node.GetSegmentation()
    assert segmentation.GetNumberOfSegments() == len(structures)
    # Parcels, the border structure and the empty one fit one layer; Body and PRV overlap them.
    assert 2 <= segmentation.GetNumberOfLayers() < len(structures) - 2
    assert len({segmentation.GetLayerIndex(n) for n in segmentation_nodes.segment_ids(node)[:4]}) == 1
    _assert_same_as_old_path(node, ct_node)
    for written, read in zip(structures, segmentation_nodes.read_structures(node, ct_node), strict=True):
        np.testing.assert_array_equal(read.mask, crop(segmentation_nodes.full_mask(written, SHAPE))[0])
        assert (read.name, read.color, read.roi_type, read.algorithm, read.description) == (
            written.name, written.color, written.roi_type, written.algorithm, written.description)
    assert segmentation_nodes.read_structures(node, ct_node)[-1].mask.size == 0


def test_labelmap_imported_by_slicer_reads_like_the_full_grid_path(scene, ct_node) -> None:
    labels = np.zeros(SHAPE, dtype=np.uint8)
    labels[1:4, 2:9, 3:8] = 1
    labels[5:9, 0:16, 10:19] = 2  # touches three borders
    labels[2, 12, 1] = 7
    label_node = slicer.modules.volumes.logic().CreateAndAddLabelVolume(ct_node, "labels")
    slicer.util.updateVolumeFromArray(label_node, labels)
    node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "imported")
    node.SetReferenceImageGeometryParameterFromVolumeNode(ct_node)
    assert slicer.modules.segmentations.logic().ImportLabelmapToSegmentationNode(label_node, node)
    assert node.GetSegmentation().GetNumberOfLayers() == 1
    blocks = _assert_same_as_old_path(node, ct_node)
    assert sorted(b.voxels for b in blocks.values()) == sorted(int((labels == v).sum()) for v in (1, 2, 7))


def _add_image_segment(node: Any, segment_id: str, image: Any, label: int = 1) -> None:
    segment = slicer.vtkSegment()
    segment.SetName(segment_id)
    segment.SetLabelValue(label)
    segment.AddRepresentation(segment_layers.BINARY_LABELMAP, image)
    assert node.GetSegmentation().AddSegment(segment, segment_id)


def _image(array: np.ndarray, first_ijk: tuple[int, int, int], matrix: vtk.vtkMatrix4x4) -> Any:
    return segment_layers._image(array, first_ijk[::-1], matrix)


def test_layers_with_other_extents_and_geometries(scene, ct_node) -> None:
    node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "mixed")
    node.SetReferenceImageGeometryParameterFromVolumeNode(ct_node)
    matrix = segment_layers.ijk_to_ras(ct_node)
    rng = np.random.default_rng(3)
    larger = (rng.random((SHAPE[0] + 6, SHAPE[1] + 4, SHAPE[2] + 8)) < 0.3).astype(np.uint8)
    larger[larger > 0] = rng.integers(1, 3, size=int(larger.sum()))  # two segments share this layer
    _add_image_segment(node, "Larger1", image := _image(larger, (-4, -2, -3), matrix), 1)
    _add_image_segment(node, "Larger2", image, 2)
    _add_image_segment(node, "Smaller", _image((rng.random((3, 4, 5)) < 0.5).astype(np.uint8), (2, 5, 4), matrix))
    _add_image_segment(node, "Outside", _image(np.ones((2, 2, 2), np.uint8), (SHAPE[2] + 3, 0, 0), matrix))
    other = vtk.vtkMatrix4x4()  # another spacing, rotation and origin: resampled like Slicer does
    other.DeepCopy(matrix)
    for row in range(3):
        other.SetElement(row, 0, 0.7 * matrix.GetElement(row, 0) + 0.3 * matrix.GetElement(row, 1))
        other.SetElement(row, 3, matrix.GetElement(row, 3) + 1.3)
    _add_image_segment(node, "Resampled", _image((rng.random((12, 20, 9)) < 0.5).astype(np.uint8), (0, 0, 0), other))
    blocks = _assert_same_as_old_path(node, ct_node)
    assert blocks["Outside"].voxels == 0 and blocks["Resampled"].voxels > 0 and blocks["Larger2"].voxels > 0


def test_transformed_segmentation_is_read_through_slicer_resampling(scene, ct_node) -> None:
    node = segmentation_nodes.create_segmentation_node(scene, ct_node, _structures(SHAPE), "moved")
    transform = scene.AddNewNodeByClass("vtkMRMLLinearTransformNode")
    shift = vtk.vtkMatrix4x4()
    shift.SetElement(0, 3, 2.2)
    shift.SetElement(2, 3, -3.1)
    transform.SetMatrixTransformToParent(shift)
    node.SetAndObserveTransformNodeID(transform.GetID())
    blocks = _assert_same_as_old_path(node, ct_node)
    assert sum(b.voxels for b in blocks.values()) > 0


def test_unknown_segment_is_an_input_error(scene, ct_node) -> None:
    from OARContourLib.errors import InputError

    node = segmentation_nodes.create_segmentation_node(scene, ct_node, _structures(SHAPE)[:1], "one")
    with pytest.raises(InputError, match="No segment 'Nope'"):
        segmentation_nodes.segment_blocks(node, ct_node, ["Nope"])


def test_segment_io_adds_no_node_to_any_scene(context, tmp_path) -> None:
    """With ``scene=`` another scene, slicer.mrmlScene sees nothing; the Logic's scene gets only its nodes."""
    from OARContourLib.logic import OARContourLogic

    other = slicer.vtkMRMLScene()
    added: list[str] = []
    for watched in (slicer.mrmlScene, other):
        watched.AddObserver(slicer.vtkMRMLScene.NodeAddedEvent, lambda caller, event: added.append(
            caller.GetNthNode(caller.GetNumberOfNodes() - 1).GetClassName()))
    logic = OARContourLogic(scene=other)
    ct_node = logic.addCTVolume(make_ct_volume(tmp_path, shape_kji=SHAPE))
    assert ct_node.GetScene() is other
    added.clear()
    node = segmentation_nodes.create_segmentation_node(other, ct_node, _structures(SHAPE), "OARs")
    segmentation_nodes.read_structures(node, ct_node)
    new_ids = logic.deriveStructures(node, ct_node, ["Parcel0:2"])
    assert added.count("vtkMRMLSegmentationNode") == 1
    assert not [name for name in added if "LabelMap" in name or name == "vtkMRMLColorTableNode"]
    assert slicer.mrmlScene.GetNodesByClass("vtkMRMLSegmentationNode").GetNumberOfItems() == 0
    expected = _old_path(node, ct_node)[new_ids[0]]  # the old path itself needs slicer.mrmlScene: last
    np.testing.assert_array_equal(segmentation_nodes.segment_mask(node, new_ids[0], ct_node), expected)
    assert expected.sum() > segmentation_nodes.segment_blocks(node, ct_node)["Parcel0"].voxels


def test_export_from_blocks_writes_the_contours_of_the_full_grid_masks(scene, logic, tmp_path) -> None:
    import pydicom
    from OARContourLib.ct.load import load_ct
    from OARContourLib.phantom import write_phantom
    from OARContourLib.rtstruct.model import ExportOptions
    from OARContourLib.rtstruct.write import write_rtstruct

    phantom = write_phantom(tmp_path / "p", rows=64, columns=56, slices=10, pixel_spacing_mm=6.0,
                            slice_spacing_mm=8.0, seed=2)
    ct_node = logic.loadCT(phantom.ct_dir)
    shape = tuple(slicer.util.arrayFromVolume(ct_node).shape)
    node = segmentation_nodes.create_segmentation_node(scene, ct_node, _structures(shape)[:-1], "OARs")
    result = logic.exportRTSTRUCT(node, ct_node, tmp_path, structureSetLabel="Blocks")
    assert not result.verification.has_errors and min(result.verification.dice.values()) == 1.0
    segmentation = node.GetSegmentation()
    old = [Structure(segmentation.GetSegment(segment_id).GetName(), mask)
           for segment_id, mask in _old_path(node, ct_node).items()]
    write_rtstruct(tmp_path / "full.dcm", load_ct(phantom.ct_dir), old, ExportOptions())

    def contours(path) -> list[list[bytes]]:
        dataset = pydicom.dcmread(path)
        return [[item.get_item(0x30060050).value for item in roi.get("ContourSequence") or []]
                for roi in dataset.ROIContourSequence]

    assert contours(result.path) == contours(tmp_path / "full.dcm")
    assert sum(len(c) for c in contours(result.path)) > len(old)
