"""OARContourLogic.addCTVolume / getCTReference on CT volumes built from numpy (real MRML)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import slicer
import slicer.util
from OARContourLib import headless
from OARContourLib.errors import InputError

SH = slicer.vtkMRMLSubjectHierarchyConstants


def sh_node(scene):
    return slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)


def hierarchy(scene, node):
    """(patient, study, series) item IDs of a volume node."""
    sh = sh_node(scene)
    series = sh.GetItemByDataNode(node)
    study = sh.GetItemParent(series)
    return sh.GetItemParent(study), study, series


def test_voxels_keep_values_and_int16_type(logic, ct_volume_factory) -> None:
    volume = ct_volume_factory()
    node = logic.addCTVolume(volume)
    array = slicer.util.arrayFromVolume(node)
    assert array.dtype == np.int16
    np.testing.assert_array_equal(array, volume.hu)


def test_float_voxels_are_not_rounded(logic, ct_volume_factory) -> None:
    volume = ct_volume_factory(dtype=np.float32)
    node = logic.addCTVolume(volume)
    assert slicer.util.arrayFromVolume(node).dtype == np.float32


def test_ijk_to_ras_is_the_geometry_matrix(logic, ct_volume_factory) -> None:
    volume = ct_volume_factory()
    node = logic.addCTVolume(volume)
    ijk_to_ras = slicer.util.arrayFromVTKMatrix(_ijk_to_ras(node))
    np.testing.assert_allclose(ijk_to_ras, volume.geometry.ijk_to_ras(), atol=1e-9)
    np.testing.assert_allclose(node.GetSpacing(), volume.geometry.spacing_mm)


def test_a_voxel_lands_at_its_lps_position_with_x_and_y_negated(logic, ct_volume_factory) -> None:
    volume = ct_volume_factory()
    node = logic.addCTVolume(volume)
    ijk = np.array([6.0, 2.0, 3.0, 1.0])  # (i, j, k)
    lps = volume.geometry.ijk_to_lps() @ ijk
    ras = np.array(_ijk_to_ras(node).MultiplyPoint(list(ijk)))
    np.testing.assert_allclose(ras[:3], [-lps[0], -lps[1], lps[2]], atol=1e-9)


def test_display_uses_a_grey_soft_tissue_window(logic, ct_volume_factory) -> None:
    node = logic.addCTVolume(ct_volume_factory())
    display = node.GetDisplayNode()
    assert display.GetColorNodeID() == "vtkMRMLColorTableNodeGrey"
    assert not display.GetAutoWindowLevel()
    assert (display.GetWindow(), display.GetLevel()) == (400.0, 40.0)
    assert node.GetVoxelValueUnits().GetCodeValue() == "[hnsf'U]"


def test_node_name_is_the_series_description_or_ct(logic, ct_volume_factory) -> None:
    named = logic.addCTVolume(ct_volume_factory(reference_kwargs={"series_description": "Thorax 2.5mm"}))
    unnamed = logic.addCTVolume(ct_volume_factory(reference_kwargs={"series_description": "", "series": "2"}))
    assert named.GetName() == "Thorax 2.5mm"
    assert unnamed.GetName() == "CT"


def test_node_attributes_list_slices_in_order(logic, ct_volume_factory) -> None:
    volume = ct_volume_factory()
    node = logic.addCTVolume(volume)
    assert node.GetAttribute("DICOM.instanceUIDs").split() == [s.sop_instance_uid for s in volume.slices]
    assert node.GetAttribute("OARContour.SOPClassUIDs").split() == [s.sop_class_uid for s in volume.slices]
    assert json.loads(node.GetAttribute("OARContour.SourceFiles")) == [str(s.path) for s in volume.slices]
    assert node.GetAttribute(SH.GetDICOMFrameOfReferenceUIDAttributeName()) == volume.reference.frame_of_reference_uid


def test_subject_hierarchy_is_patient_study_series(scene, logic, ct_volume_factory) -> None:
    volume = ct_volume_factory()
    reference = volume.reference
    node = logic.addCTVolume(volume)
    sh = sh_node(scene)
    patient, study, series = hierarchy(scene, node)
    assert sh.GetItemParent(patient) == sh.GetSceneItemID()
    assert (sh.GetItemLevel(patient), sh.GetItemLevel(study)) == ("Patient", "Study")
    assert sh.GetItemDataNode(series) is node
    uid = SH.GetDICOMUIDName()
    assert sh.GetItemUID(patient, uid) == "OARC-TEST-001"
    assert sh.GetItemUID(study, uid) == reference.study_instance_uid
    assert sh.GetItemUID(series, uid) == reference.series_instance_uid
    assert sh.GetItemUID(series, SH.GetDICOMInstanceUIDName()).split() == [s.sop_instance_uid for s in volume.slices]


def test_patient_study_and_series_items_carry_dicom_attributes(scene, logic, ct_volume_factory) -> None:
    node = logic.addCTVolume(ct_volume_factory())
    sh = sh_node(scene)
    patient, study, series = hierarchy(scene, node)
    assert sh.GetItemAttribute(patient, SH.GetDICOMPatientNameAttributeName()) == "Test^Phantom"
    assert sh.GetItemAttribute(patient, SH.GetDICOMPatientIDAttributeName()) == "OARC-TEST-001"
    assert sh.GetItemAttribute(patient, SH.GetDICOMPatientSexAttributeName()) == "O"
    assert sh.GetItemAttribute(patient, SH.GetDICOMPatientBirthDateAttributeName()) == "19700101"
    assert sh.GetItemAttribute(study, SH.GetDICOMStudyDateAttributeName()) == "20240102"
    assert sh.GetItemAttribute(study, SH.GetDICOMStudyTimeAttributeName()) == "101500"
    assert sh.GetItemAttribute(study, SH.GetDICOMStudyDescriptionAttributeName()) == "RT planning"
    assert sh.GetItemAttribute(study, SH.GetDICOMStudyIDAttributeName()) == "S42"
    assert sh.GetItemAttribute(study, "StudyID") == "S42"  # where SlicerRT's export reads it
    assert sh.GetItemAttribute(study, "DICOM.AccessionNumber") == "ACC7"
    assert sh.GetItemAttribute(series, SH.GetDICOMSeriesModalityAttributeName()) == "CT"
    assert sh.GetItemAttribute(series, SH.GetDICOMSeriesNumberAttributeName()) == "1"
    assert sh.GetItemAttribute(series, "DICOM.PatientPosition") == "HFS"
    assert sh.GetItemName(study) == "RT planning (20240102)"


def test_two_series_of_one_study_share_patient_and_study(scene, logic, ct_volume_factory) -> None:
    first = logic.addCTVolume(ct_volume_factory(reference_kwargs={"series": "1"}))
    second = logic.addCTVolume(ct_volume_factory(reference_kwargs={"series": "2"}))
    other_study = logic.addCTVolume(ct_volume_factory(reference_kwargs={"study": "9", "series": "3"}))
    patient_1, study_1, series_1 = hierarchy(scene, first)
    patient_2, study_2, series_2 = hierarchy(scene, second)
    patient_3, study_3, _ = hierarchy(scene, other_study)
    assert (patient_1, study_1) == (patient_2, study_2)
    assert series_1 != series_2
    assert patient_3 == patient_1 and study_3 != study_1
    assert sh_node(scene).GetNumberOfItemChildren(patient_1) == 2


def test_ct_reference_round_trips(logic, ct_volume_factory) -> None:
    volume = ct_volume_factory()
    node = logic.addCTVolume(volume)
    reference = logic.getCTReference(node)
    assert reference == volume.reference
    assert reference.is_referenceable


def test_ct_reference_of_second_series_keeps_its_own_series_attributes(logic, ct_volume_factory) -> None:
    logic.addCTVolume(ct_volume_factory(reference_kwargs={"series": "1", "series_description": "A"}))
    volume = ct_volume_factory(reference_kwargs={"series": "2", "series_description": "B"})
    node = logic.addCTVolume(volume)
    assert logic.getCTReference(node) == volume.reference


def test_anonymised_series_loads_without_invented_uids(scene, logic, ct_volume_factory, caplog) -> None:
    lines: list[str] = []
    logic.log_callback = lines.append
    volume = ct_volume_factory(reference_kwargs={"anonymised": True})
    with caplog.at_level(logging.WARNING):
        node = logic.addCTVolume(volume)
    sh = sh_node(scene)
    patient, study, series = hierarchy(scene, node)
    assert [sh.GetItemUID(item, SH.GetDICOMUIDName()) for item in (patient, study, series)] == ["", "", ""]
    assert sh.GetItemUID(series, SH.GetDICOMInstanceUIDName()) == ""
    assert node.GetAttribute("DICOM.instanceUIDs") is None
    assert (sh.GetItemLevel(patient), sh.GetItemLevel(study)) == ("Patient", "Study")
    assert sh.GetItemName(patient) == "Test^Phantom"
    assert any("cannot reference it" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert any("cannot reference it" in line for line in lines)
    np.testing.assert_array_equal(slicer.util.arrayFromVolume(node), volume.hu)


def test_anonymised_reference_round_trips_as_not_referenceable(logic, ct_volume_factory) -> None:
    volume = ct_volume_factory(reference_kwargs={"anonymised": True})
    reference = logic.getCTReference(logic.addCTVolume(volume))
    assert reference == volume.reference
    assert not reference.is_referenceable


def test_anonymised_series_of_one_patient_share_items(scene, logic, ct_volume_factory) -> None:
    first = logic.addCTVolume(ct_volume_factory(reference_kwargs={"anonymised": True}))
    second = logic.addCTVolume(ct_volume_factory(reference_kwargs={"anonymised": True}))
    assert hierarchy(scene, first)[:2] == hierarchy(scene, second)[:2]


def test_log_callback_receives_the_load_summary(logic, ct_volume_factory) -> None:
    lines: list[str] = []
    logic.log_callback = lines.append
    logic.addCTVolume(ct_volume_factory(shape_kji=(3, 4, 5)))
    assert lines == ["Loaded CT 'Thorax 2.5mm': 3 slices of 4x5 (int16)"]


def test_ct_reference_refuses_a_volume_not_loaded_from_dicom(scene, logic) -> None:
    volume = slicer.util.addVolumeFromArray(np.zeros((2, 3, 4), dtype=np.int16), name="drawn")
    with pytest.raises(InputError, match="'drawn' was not loaded from DICOM"):
        logic.getCTReference(volume)


@pytest.mark.parametrize("bad", [None, "a string", "vtkMRMLSegmentationNode"])
def test_ct_reference_refuses_what_is_not_a_volume(scene, logic, bad) -> None:
    node = scene.AddNewNodeByClass(bad) if bad and bad.startswith("vtk") else bad
    with pytest.raises(InputError, match="is not a scalar volume"):
        logic.getCTReference(node)


def test_ct_reference_reads_a_volume_placed_like_slicers_dicom_module(scene, logic) -> None:
    # Slicer's DICOM plugin stores UIDs on SH items but no OARContour keyword list.
    node = slicer.util.addVolumeFromArray(np.zeros((2, 3, 4), dtype=np.int16), name="from Slicer")
    sh = sh_node(scene)
    series = sh.CreateItem(sh.GetSceneItemID(), node)
    sh.SetItemUID(series, "DICOM", "1.2.3.4")
    sh.SetItemAttribute(series, "DICOM.Modality", "CT")
    slicer.vtkSlicerSubjectHierarchyModuleLogic.InsertDicomSeriesInHierarchy(sh, "P1", "1.2.3", "1.2.3.4")
    sh.SetItemAttribute(sh.GetItemByUID("DICOM", "P1"), "DICOM.PatientName", "Slicer^Loaded")
    reference = logic.getCTReference(node)
    assert (reference.study_instance_uid, reference.series_instance_uid, reference.modality) == ("1.2.3", "1.2.3.4", "CT")
    assert reference.attributes["PatientName"] == "Slicer^Loaded"
    assert not reference.is_referenceable  # no Frame of Reference UID


def test_logic_without_a_scene_says_to_call_setup(ct_volume_factory) -> None:
    from OARContourLib.logic import OARContourLogic

    headless.teardown()
    with pytest.raises(InputError, match="no MRML scene") as caught:
        OARContourLogic().addCTVolume(ct_volume_factory())
    assert "headless.setup()" in caught.value.hint


def _ijk_to_ras(node):
    import vtk

    matrix = vtk.vtkMatrix4x4()
    node.GetIJKToRASMatrix(matrix)
    return matrix
