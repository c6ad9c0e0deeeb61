"""OARContourLogic.loadCT on the written phantom for three patient positions (real DICOM, real MRML)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
import slicer
import slicer.util
import vtk
from OARContourLib.ct.load import load_ct
from OARContourLib.phantom import write_phantom
from pydicom.uid import generate_uid

SH = slicer.vtkMRMLSubjectHierarchyConstants
POSITIONS = ("HFS", "FFS", "HFP")
#: 96 × 5 mm = 480 mm field of view, so both lungs are in the image.
SMALL = dict(rows=96, columns=96, slices=20, pixel_spacing_mm=5.0)


@pytest.fixture(scope="module", params=POSITIONS)
def phantom(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    return write_phantom(tmp_path_factory.mktemp(f"phantom_{request.param}") / "out",
                         patient_position=request.param, seed=3, **SMALL)


@pytest.fixture(scope="module")
def hfs_phantom(tmp_path_factory: pytest.TempPathFactory):
    return write_phantom(tmp_path_factory.mktemp("phantom_hfs") / "out", patient_position="HFS", seed=3, **SMALL)


def ijk_to_ras(node) -> np.ndarray:
    matrix = vtk.vtkMatrix4x4()
    node.GetIJKToRASMatrix(matrix)
    return slicer.util.arrayFromVTKMatrix(matrix)


def sorted_files(node) -> list[str]:
    return json.loads(node.GetAttribute("OARContour.SourceFiles"))


def test_node_holds_the_core_volume_on_its_grid(scene, logic, phantom) -> None:
    volume = load_ct(phantom.ct_dir)
    node = logic.loadCT(phantom.ct_dir)
    np.testing.assert_allclose(ijk_to_ras(node), volume.geometry.ijk_to_ras(), atol=1e-6)
    np.testing.assert_allclose(ijk_to_ras(node), phantom.geometry.ijk_to_ras(), atol=1e-3)
    array = slicer.util.arrayFromVolume(node)
    assert array.dtype == volume.hu.dtype
    np.testing.assert_array_equal(array, volume.hu)


def test_node_matches_slicers_own_dicom_reader(scene, logic, phantom) -> None:
    node = logic.loadCT(phantom.ct_dir)
    files = vtk.vtkStringArray()
    for path in sorted_files(node):
        files.InsertNextValue(path)
    reference = slicer.modules.volumes.logic().AddArchetypeScalarVolume(files.GetValue(0), "reader", 0, files)
    np.testing.assert_allclose(ijk_to_ras(node), ijk_to_ras(reference), atol=1e-3)
    np.testing.assert_array_equal(slicer.util.arrayFromVolume(node), slicer.util.arrayFromVolume(reference))


def test_left_lung_lies_on_the_patients_left_in_ras(scene, logic, phantom) -> None:
    node = logic.loadCT(phantom.ct_dir)
    truth = slicer.modules.volumes.logic().AddArchetypeVolume(str(phantom.truth_files["Lung_L"]), "Lung_L truth", 1)
    # Slicer's NIfTI reader puts the truth mask on exactly the CT node's grid ...
    np.testing.assert_allclose(ijk_to_ras(truth), ijk_to_ras(node), atol=1e-3)
    lung_l = slicer.util.arrayFromVolume(truth) > 0
    assert lung_l.any()
    # ... where the CT is air-filled lung.
    assert np.median(slicer.util.arrayFromVolume(node)[lung_l]) < -600
    centroid_ijk = np.append(np.argwhere(lung_l).mean(axis=0)[::-1], 1.0)  # (k, j, i) -> (i, j, k, 1)
    centroid_ras = ijk_to_ras(node) @ centroid_ijk
    centroid_lps = phantom.geometry.ijk_to_lps() @ centroid_ijk
    assert centroid_lps[0] > 0  # patient left is +x in LPS ...
    assert centroid_ras[0] < 0  # ... and -x in RAS (+x points to the patient's right)
    np.testing.assert_allclose(centroid_ras[:3], centroid_lps[:3] * [-1, -1, 1], atol=1e-3)


def test_right_lung_lies_on_the_patients_right_in_ras(scene, logic, phantom) -> None:
    node = logic.loadCT(phantom.ct_dir)
    truth = slicer.modules.volumes.logic().AddArchetypeVolume(str(phantom.truth_files["Lung_R"]), "Lung_R truth", 1)
    lung_r = slicer.util.arrayFromVolume(truth) > 0
    centroid_ijk = np.append(np.argwhere(lung_r).mean(axis=0)[::-1], 1.0)
    assert (ijk_to_ras(node) @ centroid_ijk)[0] > 0


def test_hierarchy_carries_the_phantom_uids(scene, logic, hfs_phantom) -> None:
    node = logic.loadCT(hfs_phantom.ct_dir)
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    series = sh.GetItemByDataNode(node)
    study = sh.GetItemParent(series)
    patient = sh.GetItemParent(study)
    first = pydicom.dcmread(sorted_files(node)[0], stop_before_pixels=True)
    uid = SH.GetDICOMUIDName()
    assert (sh.GetItemLevel(patient), sh.GetItemLevel(study)) == ("Patient", "Study")
    assert sh.GetItemUID(patient, uid) == first.PatientID
    assert sh.GetItemUID(study, uid) == hfs_phantom.study_instance_uid
    assert sh.GetItemUID(series, uid) == hfs_phantom.series_instance_uid
    assert node.GetAttribute("DICOM.FrameOfReferenceUID") == hfs_phantom.frame_of_reference_uid
    assert sh.GetItemAttribute(patient, SH.GetDICOMPatientNameAttributeName()) == str(first.PatientName)


def test_reference_round_trips_what_the_core_loaded(scene, logic, hfs_phantom) -> None:
    node = logic.loadCT(hfs_phantom.ct_dir)
    reference = logic.getCTReference(node)
    assert reference == load_ct(hfs_phantom.ct_dir).reference
    assert reference.is_referenceable
    assert reference.frame_of_reference_uid == hfs_phantom.frame_of_reference_uid


def test_two_series_of_one_study_share_patient_and_study(scene, logic, hfs_phantom, tmp_path: Path) -> None:
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    series_uid = generate_uid()
    for path in Path(hfs_phantom.ct_dir).iterdir():
        dataset = pydicom.dcmread(path)
        dataset.SeriesInstanceUID = series_uid
        dataset.SOPInstanceUID = generate_uid()
        dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
        dataset.SeriesNumber = 2
        dataset.SeriesDescription = "Second series"
        dataset.save_as(second_dir / path.name)
    first = logic.loadCT(hfs_phantom.ct_dir)
    second = logic.loadCT(second_dir)
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    first_item, second_item = sh.GetItemByDataNode(first), sh.GetItemByDataNode(second)
    assert sh.GetItemParent(first_item) == sh.GetItemParent(second_item)
    study = sh.GetItemParent(first_item)
    assert sh.GetNumberOfItemChildren(study) == 2
    assert sh.GetNumberOfItemChildren(sh.GetSceneItemID()) == 1  # one patient
    assert sh.GetItemUID(second_item, SH.GetDICOMUIDName()) == series_uid
    assert logic.getCTReference(second).attributes["SeriesDescription"] == "Second series"
    assert logic.getCTReference(first).series_instance_uid == hfs_phantom.series_instance_uid


def test_progress_reaches_the_end_and_can_cancel(scene, logic, hfs_phantom) -> None:
    from OARContourLib.errors import CancelledError

    fractions: list[float] = []
    logic.loadCT(hfs_phantom.ct_dir, progress=lambda fraction, message: fractions.append(fraction) or False)
    assert fractions and fractions[-1] == pytest.approx(1.0)
    nodes_before = scene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode")
    with pytest.raises(CancelledError):
        logic.loadCT(hfs_phantom.ct_dir, progress=lambda fraction, message: True)
    assert scene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode") == nodes_before


def test_load_sample_phantom_writes_once_and_reuses(logic, tmp_path: Path) -> None:
    node = logic.loadSamplePhantom(variant="headneck", outputDir=tmp_path / "sample")
    written = sorted((tmp_path / "sample" / "ct").iterdir())
    assert node.GetImageData().GetDimensions() == (512, 512, 112)
    again = logic.loadSamplePhantom(variant="headneck", outputDir=tmp_path / "sample")
    assert sorted((tmp_path / "sample" / "ct").iterdir()) == written
    assert again.GetID() != node.GetID()
    assert logic.getCTReference(again).series_instance_uid == logic.getCTReference(node).series_instance_uid
