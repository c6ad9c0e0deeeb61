"""OARContourLogic workflow on real MRML: autoSegment → deriveStructures → applyNaming → exportRTSTRUCT."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
import slicer
import slicer.util
from OARContourLib.autoseg import run_autoseg
from OARContourLib.ct.load import load_ct
from OARContourLib.errors import InputError
from OARContourLib.logic import segmentation_nodes, workflow
from OARContourLib.naming.resolve import AUTO_APPLY_CONFIDENCE, suggest
from OARContourLib.phantom import write_phantom
from OARContourLib.rtstruct.model import GenerationAlgorithm, RoiType, Structure

SMALL = dict(rows=128, columns=128, pixel_spacing_mm=3.5, slices=36, slice_spacing_mm=6.0)


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory):
    return write_phantom(tmp_path_factory.mktemp("workflow") / "out", seed=5, **SMALL)


@pytest.fixture(scope="module")
def autoseg_result(phantom):
    return run_autoseg(load_ct(phantom.ct_dir))


def full(structure: Structure, shape) -> np.ndarray:
    return segmentation_nodes.full_mask(structure, shape)


def test_segments_round_trip_on_the_ct_grid(scene, logic, phantom) -> None:
    ct_node = logic.loadCT(phantom.ct_dir)
    shape = slicer.util.arrayFromVolume(ct_node).shape
    mask = np.zeros(shape, dtype=bool)
    mask[2:5, 10:30, 40:50] = True  # asymmetric block: a swapped axis or flip would show
    block = Structure("Heart", mask[2:5, 10:30, 40:45], offset_kji=(2, 10, 40), color=(200, 10, 30),
                      roi_type=RoiType.AVOIDANCE, algorithm=GenerationAlgorithm.SEMIAUTOMATIC, description="d")
    node = segmentation_nodes.create_segmentation_node(scene, ct_node, [block, Structure("Body", mask)], "s")
    heart, body = segmentation_nodes.read_structures(node, ct_node)
    np.testing.assert_array_equal(full(heart, shape), np.pad(mask[:, :, :45], ((0, 0), (0, 0), (0, shape[2] - 45))))
    np.testing.assert_array_equal(full(body, shape), mask)
    assert (heart.name, heart.color, heart.roi_type, heart.algorithm, heart.description) == (
        "Heart", (200, 10, 30), RoiType.AVOIDANCE, GenerationAlgorithm.SEMIAUTOMATIC, "d")


def test_untagged_segments_take_the_table_type_else_organ(scene, logic, phantom) -> None:
    ct_node = logic.loadCT(phantom.ct_dir)
    shape = slicer.util.arrayFromVolume(ct_node).shape
    node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
    node.SetReferenceImageGeometryParameterFromVolumeNode(ct_node)
    mask = np.zeros(shape, dtype=np.uint8)
    mask[5:8, 50:60, 50:60] = 1
    for name in ("External", "Whatever"):
        node.GetSegmentation().AddEmptySegment(name, name, (0.5, 0.5, 0.5))
        slicer.util.updateSegmentBinaryLabelmapFromArray(mask, node, name, ct_node)
    external, other = segmentation_nodes.read_structures(node, ct_node)
    assert external.roi_type is RoiType.EXTERNAL
    assert other.roi_type is RoiType.ORGAN
    assert other.algorithm is GenerationAlgorithm.MANUAL


def test_auto_segment_places_run_autoseg_masks_beside_the_ct(scene, logic, phantom, autoseg_result) -> None:
    ct_node = logic.loadCT(phantom.ct_dir)
    seg_node = logic.autoSegment(ct_node)
    names = [seg_node.GetSegmentation().GetSegment(i).GetName() for i in segmentation_nodes.segment_ids(seg_node)]
    assert {"Body", "Lung_L", "Lung_R", "SpinalCanal"} <= set(names)
    assert names == [s.name for s in autoseg_result.structures]
    shape = slicer.util.arrayFromVolume(ct_node).shape
    for expected, got in zip(autoseg_result.structures, segmentation_nodes.read_structures(seg_node, ct_node),
                             strict=True):
        np.testing.assert_array_equal(full(got, shape), full(expected, shape), err_msg=expected.name)
        assert (got.color, got.roi_type, got.algorithm) == (expected.color, expected.roi_type, expected.algorithm)
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    study = sh.GetItemParent(sh.GetItemByDataNode(ct_node))
    assert sh.GetItemLevel(study) == "Study"
    assert sh.GetItemParent(sh.GetItemByDataNode(seg_node)) == study
    assert json.loads(seg_node.GetAttribute("OARContour.Provenance"))


def test_export_references_the_ct_and_round_trips(scene, logic, phantom, tmp_path: Path) -> None:
    ct_node = logic.loadCT(phantom.ct_dir)
    seg_node = logic.autoSegment(ct_node)
    result = logic.exportRTSTRUCT(seg_node, ct_node, tmp_path, structureSetLabel="Test")
    assert result.path == tmp_path / "RS_Test.dcm" and result.path.is_file()
    assert not result.verification.has_errors, [f.message for f in result.verification.findings]
    assert result.verification.dice and all(d == pytest.approx(1.0) for d in result.verification.dice.values())
    assert json.loads(result.verification_path.read_text())["has_errors"] is False
    assert result.verification_path == tmp_path / "RS_Test.dcm.verify.json"
    rs = pydicom.dcmread(result.path)
    ct_file = pydicom.dcmread(json.loads(ct_node.GetAttribute("OARContour.SourceFiles"))[0])
    assert rs.StudyInstanceUID == ct_file.StudyInstanceUID
    frame = rs.ReferencedFrameOfReferenceSequence[0]
    assert frame.FrameOfReferenceUID == ct_file.FrameOfReferenceUID
    series = frame.RTReferencedStudySequence[0].RTReferencedSeriesSequence[0]
    assert series.SeriesInstanceUID == ct_file.SeriesInstanceUID
    with pytest.raises(InputError):
        logic.exportRTSTRUCT(seg_node, ct_node, tmp_path, structureSetLabel="Test")  # exists, no overwrite
    with pytest.raises(InputError):
        logic.exportRTSTRUCT(seg_node, ct_node, tmp_path, engine="slicerrt")


def test_derive_adds_a_prv_segment(scene, logic, phantom) -> None:
    ct_node = logic.loadCT(phantom.ct_dir)
    seg_node = logic.autoSegment(ct_node, structures=["Body", "SpinalCanal"])
    new_ids = logic.deriveStructures(seg_node, ct_node, ["SpinalCanal:5"])
    assert len(new_ids) == 1
    segment = seg_node.GetSegmentation().GetSegment(new_ids[0])
    assert segment.GetName() == "SpinalCanal_PRV5"
    canal = slicer.util.arrayFromSegmentBinaryLabelmap(seg_node, "SpinalCanal", ct_node) > 0
    prv = slicer.util.arrayFromSegmentBinaryLabelmap(seg_node, new_ids[0], ct_node) > 0
    assert prv.sum() > canal.sum() and not (canal & ~prv).any()
    prv_structure = segmentation_nodes.read_structures(seg_node, ct_node)[-1]
    assert prv_structure.roi_type is RoiType.AVOIDANCE


def test_derive_directional_margin_grows_toward_the_patients_back_only(scene, logic, phantom) -> None:
    ct_node = logic.loadCT(phantom.ct_dir)
    seg_node = logic.autoSegment(ct_node, structures=["SpinalCanal"])
    new_ids = logic.deriveStructures(seg_node, ct_node, ["SpinalCanal:0,post=6"])
    canal = slicer.util.arrayFromSegmentBinaryLabelmap(seg_node, "SpinalCanal", ct_node) > 0
    prv = slicer.util.arrayFromSegmentBinaryLabelmap(seg_node, new_ids[0], ct_node) > 0
    added = prv & ~canal
    assert added.any() and not (canal & ~prv).any()
    ijk_to_lps = workflow.ijk_to_lps_of(ct_node)

    def lps(mask: np.ndarray) -> np.ndarray:
        k, j, i = np.nonzero(mask)
        return (ijk_to_lps @ np.vstack([i, j, k, np.ones_like(i)]))[:3].T

    grown, source = lps(added), lps(canal)
    # Posterior is +y in LPS: the new voxels lie behind the canal, within its left-right and
    # head-feet extent, and no further than 6 mm from its surface (half a row behind the last centre).
    row_mm = float(np.linalg.norm(ijk_to_lps[:3, 1]))
    assert grown[:, 1].min() > source[:, 1].min()
    assert grown[:, 1].max() <= source[:, 1].max() + 6.0 + row_mm / 2 + 1e-6
    assert grown[:, 0].min() >= source[:, 0].min() - 1e-6 and grown[:, 0].max() <= source[:, 0].max() + 1e-6
    assert grown[:, 2].min() >= source[:, 2].min() - 1e-6 and grown[:, 2].max() <= source[:, 2].max() + 1e-6


@pytest.mark.parametrize("name", ["Lt Lung", "kidney_left", "cord", "Body"])
def test_suggestions_the_naming_test_relies_on(name: str) -> None:
    best = suggest(name)[0]
    expected = {"Lt Lung": "Lung_L", "kidney_left": "Kidney_L", "cord": "SpinalCord", "Body": "Body"}[name]
    assert best.name == expected and best.confidence >= AUTO_APPLY_CONFIDENCE


def test_apply_naming_renames_confident_matches_and_keeps_sides(scene, logic, phantom) -> None:
    ct_node = logic.loadCT(phantom.ct_dir)
    shape = slicer.util.arrayFromVolume(ct_node).shape
    mask = np.zeros(shape, dtype=bool)
    mask[3:6, 40:50, 40:50] = True
    names = ["Lt Lung", "kidney_left", "cord", "Body", "xyzzy"]
    seg_node = segmentation_nodes.create_segmentation_node(scene, ct_node, [Structure(n, mask) for n in names], "s")
    renames = logic.applyNaming(seg_node)
    by_old = {r.old_name: r for r in renames}
    assert [r.segment_id for r in renames] == names  # IDs never change
    assert (by_old["Lt Lung"].new_name, by_old["Lt Lung"].applied) == ("Lung_L", True)
    assert (by_old["kidney_left"].new_name, by_old["kidney_left"].applied) == ("Kidney_L", True)
    assert (by_old["cord"].new_name, by_old["cord"].applied) == ("SpinalCord", True)  # alias, 0.96 ≥ 0.9
    assert not by_old["Body"].applied and not by_old["xyzzy"].applied
    segmentation = seg_node.GetSegmentation()
    assert [segmentation.GetSegment(i).GetName() for i in names] == ["Lung_L", "Kidney_L", "SpinalCord", "Body",
                                                                       "xyzzy"]
    # Sides kept: both left-sided sources became _L names, the side-less ones stayed side-less.
    assert by_old["Lt Lung"].new_name.endswith("_L") and by_old["kidney_left"].new_name.endswith("_L")
    assert not by_old["cord"].new_name.endswith(("_L", "_R"))


def test_apply_naming_never_applies_below_the_threshold(scene, logic, phantom) -> None:
    ct_node = logic.loadCT(phantom.ct_dir)
    mask = np.zeros(slicer.util.arrayFromVolume(ct_node).shape, dtype=bool)
    mask[3:6, 40:50, 40:50] = True
    seg_node = segmentation_nodes.create_segmentation_node(scene, ct_node, [Structure("Lt Lung", mask)], "s")
    (rename,) = logic.applyNaming(seg_node, minConfidence=0.99)
    assert not rename.applied and rename.new_name == "Lung_L"
    assert seg_node.GetSegmentation().GetSegment("Lt Lung").GetName() == "Lt Lung"


@pytest.mark.parametrize("position", ["FFS", "HFP"])
def test_round_trip_on_flipped_and_oblique_grids(scene, logic, ct_volume_factory, tmp_path: Path,
                                                  position: str) -> None:
    flipped = logic.loadCT(write_phantom(tmp_path / position, patient_position=position, seed=1,
                                         rows=64, columns=64, slices=8, pixel_spacing_mm=7.0).ct_dir)
    oblique = logic.addCTVolume(ct_volume_factory(shape_kji=(6, 9, 11)))  # 30° rotated, anisotropic
    for ct_node in (flipped, oblique):
        shape = slicer.util.arrayFromVolume(ct_node).shape
        mask = np.zeros(shape, dtype=bool)
        mask[1:3, 2:6, 3:5] = True
        mask[4, 1, 1] = True  # a lone voxel in a corner
        node = segmentation_nodes.create_segmentation_node(scene, ct_node, [Structure("Heart", mask)], "s")
        (heart,) = segmentation_nodes.read_structures(node, ct_node)
        np.testing.assert_array_equal(full(heart, shape), mask)


def test_auto_segment_needs_the_ct_files(scene, logic, ct_volume_factory) -> None:
    ct_node = logic.addCTVolume(ct_volume_factory())  # its slice paths were never written
    with pytest.raises(InputError, match="DICOM files"):
        logic.autoSegment(ct_node)
    assert scene.GetNodesByClass("vtkMRMLSegmentationNode").GetNumberOfItems() == 0
