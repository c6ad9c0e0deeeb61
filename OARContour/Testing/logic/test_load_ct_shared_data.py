"""OARContourLogic.loadCT on real series from ../shared/data, checked against Slicer's own reader."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
import slicer
import slicer.util
import vtk

SH = slicer.vtkMRMLSubjectHierarchyConstants
IBSI_CT = "ibsi_sts002/dicom/image"
ANONYMISED_CT = "totalsegmentator_example/example_ct_dicom"


def ijk_to_ras(node) -> np.ndarray:
    matrix = vtk.vtkMatrix4x4()
    node.GetIJKToRASMatrix(matrix)
    return slicer.util.arrayFromVTKMatrix(matrix)


def load_with_slicer_volumes_logic(files: list[str]):
    """The independent reference: Slicer's archetype reader (GDCM) on the same sorted file list."""
    file_list = vtk.vtkStringArray()
    for path in files:
        file_list.InsertNextValue(path)
    return slicer.modules.volumes.logic().AddArchetypeScalarVolume(files[0], "slicer reader", 0, file_list)


def test_loaded_ct_matches_slicers_own_reader(scene, logic, shared_data: Path) -> None:
    node = logic.loadCT(shared_data / IBSI_CT)
    files = [str(Path(p)) for p in json.loads(node.GetAttribute("OARContour.SourceFiles"))]
    reference_node = load_with_slicer_volumes_logic(files)
    assert reference_node is not None
    np.testing.assert_allclose(ijk_to_ras(node), ijk_to_ras(reference_node), atol=1e-4)
    np.testing.assert_array_equal(slicer.util.arrayFromVolume(node), slicer.util.arrayFromVolume(reference_node))


def test_loaded_ct_uids_are_the_files_uids(scene, logic, shared_data: Path) -> None:
    node = logic.loadCT(shared_data / IBSI_CT)
    files = [Path(p) for p in json.loads(node.GetAttribute("OARContour.SourceFiles"))]
    headers = [pydicom.dcmread(p, stop_before_pixels=True) for p in files]
    first = headers[0]
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    series = sh.GetItemByDataNode(node)
    study = sh.GetItemParent(series)
    patient = sh.GetItemParent(study)
    uid = SH.GetDICOMUIDName()
    assert sh.GetItemUID(patient, uid) == first.PatientID
    assert sh.GetItemUID(study, uid) == first.StudyInstanceUID
    assert sh.GetItemUID(series, uid) == first.SeriesInstanceUID
    assert node.GetAttribute("DICOM.instanceUIDs").split() == [h.SOPInstanceUID for h in headers]
    assert node.GetAttribute("DICOM.FrameOfReferenceUID") == first.FrameOfReferenceUID
    # slice order: along the slice normal (IJKToRAS column k), positions increase
    z = [float(h.ImagePositionPatient[2]) for h in headers]
    assert np.sign(ijk_to_ras(node)[2, 2]) == np.sign(z[-1] - z[0])


def test_anonymised_series_loads_and_cannot_be_referenced(scene, logic, shared_data: Path) -> None:
    lines: list[str] = []
    logic.log_callback = lines.append
    node = logic.loadCT(shared_data / ANONYMISED_CT)
    assert slicer.util.arrayFromVolume(node).shape == (20, 512, 512)
    reference = logic.getCTReference(node)
    assert not reference.is_referenceable
    assert reference.series_instance_uid == "" and reference.study_instance_uid == ""
    assert any("cannot reference it" in line for line in lines)
