"""SlicerRT export path on real MRML (slicer-core): scene preparation, the missing-SlicerRT error and
the steps after the plugin call.

SlicerRT's plugin itself runs only inside Slicer. Where a test needs its output, plastimatch's
``convert --output-dicom`` (the writer SlicerRT calls) writes it into the export's staging folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
import slicer
from OARContourLib.ct.load import load_ct
from OARContourLib.errors import ExportError, InputError
from OARContourLib.logic import segmentation_nodes, slicerrt_export, subject_hierarchy
from OARContourLib.rtstruct.model import GenerationAlgorithm, RoiType, Structure
from testsupport.slicerrt_standin import plastimatch_rt_study

LABELMAP = "Binary labelmap"
SURFACE = "Closed surface"


def _structures(shape: tuple[int, ...]) -> list[Structure]:
    body = np.zeros(shape, dtype=bool)
    body[2:-2, 8:56, 6:58] = True
    cord = np.zeros(shape, dtype=bool)
    cord[3:-3, 40:44, 30:33] = True
    return [Structure("Body", body, color=(0, 255, 0), roi_type=RoiType.EXTERNAL),
            Structure("SpinalCord", cord, roi_type=RoiType.AVOIDANCE, algorithm=GenerationAlgorithm.SEMIAUTOMATIC,
                      description="edited")]


@pytest.fixture()
def ct_and_segmentation(scene, logic, small_phantom):
    ct_node = logic.loadCT(small_phantom.ct_dir)
    shape = slicer.util.arrayFromVolume(ct_node).shape
    seg_node = segmentation_nodes.create_segmentation_node(scene, ct_node, _structures(shape), "OARs")
    return ct_node, seg_node


def _sh(scene):
    return subject_hierarchy.subject_hierarchy_node(scene)


def test_prepare_moves_a_segmentation_from_under_the_ct_beside_it(scene, ct_and_segmentation) -> None:
    ct_node, seg_node = ct_and_segmentation
    sh = _sh(scene)
    ct_item, seg_item = sh.GetItemByDataNode(ct_node), sh.GetItemByDataNode(seg_node)
    sh.SetItemParent(seg_item, ct_item)  # where users often drop it ("Must export the primary ... image")
    segmentation = seg_node.GetSegmentation()
    assert segmentation.CreateRepresentation(SURFACE)
    seg_node.SetSourceRepresentationToClosedSurface()
    assert segmentation.GetSourceRepresentationName() == SURFACE

    items = slicerrt_export.prepare_for_export(scene, seg_node, ct_node)

    study = sh.GetItemParent(ct_item)
    assert sh.GetItemLevel(study) == "Study"
    assert (items.study, items.ct, items.segmentation) == (study, ct_item, seg_item)
    assert sh.GetItemParent(seg_item) == study
    assert items.patient == sh.GetItemParent(study) and sh.GetItemLevel(items.patient) == "Patient"
    assert segmentation.GetSourceRepresentationName() == LABELMAP


def test_prepare_returns_the_ct_files_patient_and_study_tags(scene, ct_and_segmentation, small_phantom) -> None:
    ct_node, seg_node = ct_and_segmentation
    items = slicerrt_export.prepare_for_export(scene, seg_node, ct_node)
    ct_file = pydicom.dcmread(next(small_phantom.ct_dir.iterdir()), stop_before_pixels=True)
    for tag in (*slicerrt_export.PATIENT_TAGS, *slicerrt_export.STUDY_TAGS, "StudyInstanceUID"):
        assert items.tags[tag] == str(ct_file.get(tag, "")), tag
    assert items.tags["PatientID"] and items.tags["StudyInstanceUID"]
    assert _sh(scene).GetItemAttribute(items.study, "StudyID") == str(ct_file.StudyID)  # read by SlicerRT


def test_prepare_places_a_segmentation_that_has_no_item_yet(scene, logic, small_phantom) -> None:
    ct_node = logic.loadCT(small_phantom.ct_dir)
    seg_node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "loose")  # headless: no SH item is made
    seg_node.SetReferenceImageGeometryParameterFromVolumeNode(ct_node)
    sh = _sh(scene)
    assert not sh.GetItemByDataNode(seg_node)
    items = slicerrt_export.prepare_for_export(scene, seg_node, ct_node)
    assert sh.GetItemByDataNode(seg_node) == items.segmentation
    assert sh.GetItemParent(items.segmentation) == sh.GetItemParent(sh.GetItemByDataNode(ct_node)) == items.study


def test_prepare_refuses_a_ct_outside_any_study(scene, small_phantom) -> None:
    volume = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "not from DICOM")
    seg_node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
    with pytest.raises(InputError, match="not under a patient and study"):
        slicerrt_export.prepare_for_export(scene, seg_node, volume)


def test_slicerrt_is_not_available_on_slicer_core(context) -> None:
    assert slicerrt_export.slicerrt_available() is False


def test_export_with_slicerrt_missing_raises_before_writing(scene, logic, ct_and_segmentation, tmp_path: Path) -> None:
    ct_node, seg_node = ct_and_segmentation
    with pytest.raises(InputError, match="SlicerRT is not installed") as raised:
        logic.exportRTSTRUCT(seg_node, ct_node, tmp_path, engine="slicerrt", structureSetLabel="RT")
    assert "engine='builtin'" in raised.value.hint
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InputError, match="Unknown RTSTRUCT export engine"):
        logic.exportRTSTRUCT(seg_node, ct_node, tmp_path, engine="eclipse")


def test_find_export_files_picks_the_rtstruct_and_the_images(small_phantom, tmp_path: Path) -> None:
    mask = np.zeros((16, 64, 64), dtype=bool)
    mask[4:8, 20:30, 20:30] = True
    out = plastimatch_rt_study(small_phantom.ct_dir, {"Box": mask}, tmp_path / "export")
    rtstruct, images = slicerrt_export.find_export_files(out)
    assert rtstruct.name.startswith("rtss_") and len(images) == 16
    assert all(pydicom.dcmread(p, stop_before_pixels=True).Modality == "CT" for p in images)
    rtstruct.unlink()
    with pytest.raises(ExportError, match="0 RTSTRUCT"):
        slicerrt_export.find_export_files(out)


@pytest.mark.parametrize("rereference", [True, False])
def test_after_the_plugin_call_the_file_is_corrected_verified_and_saved(
        scene, logic, ct_and_segmentation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rereference: bool) -> None:
    """Everything after SlicerRT's plugin call, with plastimatch (its writer) producing the plugin's output."""
    ct_node, seg_node = ct_and_segmentation
    structures = segmentation_nodes.read_structures(seg_node, ct_node)
    ct_files = [Path(p) for p in json.loads(ct_node.GetAttribute("OARContour.SourceFiles"))]
    shape = slicer.util.arrayFromVolume(ct_node).shape

    def plastimatch_instead_of_the_plugin(items, directory: Path) -> None:
        masks = {s.name: segmentation_nodes.full_mask(s, shape) for s in structures}
        plastimatch_rt_study(ct_files[0].parent, masks, directory / "rt")

    monkeypatch.setattr(slicerrt_export, "run_slicerrt_export", plastimatch_instead_of_the_plugin)
    volume = load_ct(ct_files[0].parent)
    target = tmp_path / "RS_RT.dcm"
    result = slicerrt_export.export_with_slicerrt(scene, seg_node, ct_node, volume, structures, target, tps="generic",
                                                  structure_set_label="RT", rereference=rereference, overwrite=False)
    assert result.path == target and result.engine == "slicerrt"
    assert not result.verification.has_errors, [f.message for f in result.verification.findings]
    assert min(result.verification.dice.values()) >= 0.99 and set(result.verification.dice) == {"Body", "SpinalCord"}
    assert json.loads(result.verification_path.read_text())["has_errors"] is False
    rs = pydicom.dcmread(target)
    original_frame = volume.reference.frame_of_reference_uid
    assert (rs.FrameOfReferenceUID == original_frame) is rereference
    types = {o.ReferencedROINumber: o.RTROIInterpretedType for o in rs.RTROIObservationsSequence}
    assert sorted(types.values()) == ["AVOIDANCE", "EXTERNAL"]
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    if rereference:
        assert result.ct_copy_dir is None and leftovers == ["RS_RT.dcm", "RS_RT.dcm.verify.json"]
    else:
        assert result.ct_copy_dir == tmp_path / "CT_RT" and len(list(result.ct_copy_dir.iterdir())) == 16
        assert leftovers == ["CT_RT", "RS_RT.dcm", "RS_RT.dcm.verify.json"]
        copy_frames = {pydicom.dcmread(p, stop_before_pixels=True).FrameOfReferenceUID
                       for p in result.ct_copy_dir.iterdir()}
        assert copy_frames == {rs.FrameOfReferenceUID}
