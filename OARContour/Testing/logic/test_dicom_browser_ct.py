"""A CT loaded through Slicer's DICOM browser can be contoured, checked, exported and reported.

Slicer's DICOM scalar-volume plugin leaves a volume node that carries only ``DICOM.instanceUIDs``
(its files stay in the DICOM database) and a subject-hierarchy series item under Patient → Study
(``DICOMScalarVolumePlugin.py``:500-510, ``DICOMPlugin.addSeriesInSubjectHierarchy``:240-360 at
v5.10.0). The node here is built the same way without any of OARContour's loader: voxels read by
SimpleITK, items made with the subject-hierarchy calls the plugin makes. Inside Slicer the file
lookup is ``slicer.dicomDatabase.fileForInstance``; here it is built by reading the real folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
import slicer
import slicer.util
from OARContourLib.errors import InputError
from OARContourLib.logic import OARContourLogic
from OARContourLib.logic.dicom_files import dicom_database_lookup

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def folder_lookup(folder: Path) -> dict[str, str]:
    """SOP Instance UID → path of every DICOM file under ``folder`` (what the DICOM database holds)."""
    index = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            header = pydicom.dcmread(path, stop_before_pixels=True, force=True)
            if "SOPInstanceUID" in header:
                index[str(header.SOPInstanceUID)] = str(path)
    return index


def browser_loaded_ct(scene: Any, folder: Path) -> Any:
    """A volume node as Slicer's DICOM browser leaves it: voxels, geometry, instance UIDs, hierarchy."""
    reader = sitk.ImageSeriesReader()
    files = reader.GetGDCMSeriesFileNames(str(folder))
    reader.SetFileNames(files)
    image = reader.Execute()
    node = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "3: CT browser")
    direction = np.array(image.GetDirection()).reshape(3, 3) * np.array(image.GetSpacing())
    ijk_to_lps = np.eye(4)
    ijk_to_lps[:3, :3], ijk_to_lps[:3, 3] = direction, image.GetOrigin()
    node.SetIJKToRASMatrix(slicer.util.vtkMatrixFromArray(LPS_TO_RAS @ ijk_to_lps))
    slicer.util.updateVolumeFromArray(node, sitk.GetArrayFromImage(image))
    headers = [pydicom.dcmread(f, stop_before_pixels=True) for f in files]
    node.SetAttribute("DICOM.instanceUIDs", " ".join(str(h.SOPInstanceUID) for h in headers))
    first = headers[0]
    constants = slicer.vtkMRMLSubjectHierarchyConstants
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    series = sh.CreateItem(sh.GetSceneItemID(), node)
    sh.SetItemUID(series, constants.GetDICOMUIDName(), str(first.SeriesInstanceUID))
    sh.SetItemUID(series, constants.GetDICOMInstanceUIDName(), node.GetAttribute("DICOM.instanceUIDs"))
    sh.SetItemAttribute(series, constants.GetDICOMSeriesModalityAttributeName(), str(first.Modality))
    sh.SetItemAttribute(series, constants.GetDICOMFrameOfReferenceUIDAttributeName(), str(first.FrameOfReferenceUID))
    slicer.vtkSlicerSubjectHierarchyModuleLogic.InsertDicomSeriesInHierarchy(
        sh, str(first.PatientID), str(first.StudyInstanceUID), str(first.SeriesInstanceUID))
    return node


@pytest.fixture()
def database(small_phantom, tmp_path: Path) -> Path:
    """The series in a folder laid out like Slicer's database (one file per instance, named by UID)."""
    target = tmp_path / "dicom" / "series"
    target.mkdir(parents=True)
    for path in sorted(small_phantom.ct_dir.glob("*.dcm")):
        uid = pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID
        shutil.copy(path, target / str(uid))
    return target


def test_the_browser_node_has_only_instance_uids(scene, database) -> None:
    node = browser_loaded_ct(scene, database)
    assert node.GetAttribute("OARContour.SourceFiles") is None
    uids = node.GetAttribute("DICOM.instanceUIDs").split()
    assert len(uids) == slicer.util.arrayFromVolume(node).shape[0] == len(folder_lookup(database))


def test_contour_check_export_and_report_from_a_browser_loaded_ct(scene, database, tmp_path) -> None:
    index = folder_lookup(database)
    asked: list[str] = []
    logic = OARContourLogic(dicom_file_lookup=lambda uid: asked.append(uid) or index.get(uid, ""))
    ct_node = browser_loaded_ct(scene, database)
    reference = logic.getCTReference(ct_node)
    assert reference.is_referenceable, "the series item's UIDs must make the CT referenceable"

    seg_node = logic.autoSegment(ct_node, engine="classical")
    assert set(asked) == set(index), "every slice must be found through the lookup"
    names = {seg_node.GetSegmentation().GetNthSegment(n).GetName()
             for n in range(seg_node.GetSegmentation().GetNumberOfSegments())}
    assert {"Body", "Lung_L", "Lung_R"} <= names
    errors = [f for f in logic.check(seg_node, ct_node) if f.severity.value == "error"]
    assert errors == []

    result = logic.exportRTSTRUCT(seg_node, ct_node, tmp_path, structureSetLabel="Browser")
    assert not result.verification.has_errors, [f.message for f in result.verification.findings]
    assert result.verification.rois_checked == len(names)
    written = pydicom.dcmread(result.path)
    frame = written.ReferencedFrameOfReferenceSequence[0]
    assert frame.FrameOfReferenceUID == reference.frame_of_reference_uid
    assert frame.RTReferencedStudySequence[0].RTReferencedSeriesSequence[0].SeriesInstanceUID == \
        reference.series_instance_uid
    contour_images = {str(i.ReferencedSOPInstanceUID) for roi in written.ROIContourSequence
                      for contour in roi.ContourSequence for i in contour.ContourImageSequence}
    assert contour_images and contour_images <= set(index), "contours must reference the database's instances"

    report = logic.writeReport(result.path, ct_node, tmp_path / "review.html")
    assert (tmp_path / "review.html").is_file() and report.structure_count == len(names)


def test_unknown_instance_uids_are_a_clear_error(scene, database) -> None:
    index = folder_lookup(database)
    forgotten = sorted(index)[:2]  # two slices the database no longer knows
    logic = OARContourLogic(dicom_file_lookup=lambda uid: "" if uid in forgotten else index[uid])
    ct_node = browser_loaded_ct(scene, database)
    with pytest.raises(InputError, match=rf"2 of the {len(index)} slices of CT '3: CT browser' are not in Slicer's "
                                         r"DICOM database") as raised:
        logic.autoSegment(ct_node, engine="classical")
    assert "Import the series into Slicer's DICOM database again" in raised.value.hint
    assert scene.GetNumberOfNodesByClass("vtkMRMLSegmentationNode") == 0


def test_unknown_placeholder_and_deleted_files_are_errors(scene, database) -> None:
    index = folder_lookup(database)
    ct_node = browser_loaded_ct(scene, database)
    uids = ct_node.GetAttribute("DICOM.instanceUIDs").split()
    ct_node.SetAttribute("DICOM.instanceUIDs", " ".join(["Unknown", *uids[1:]]))  # a file without a UID
    logic = OARContourLogic(dicom_file_lookup=lambda uid: index.get(uid, ""))
    with pytest.raises(InputError, match=r"1 of the \d+ slices"):
        logic.check(scene.AddNewNodeByClass("vtkMRMLSegmentationNode"), ct_node)
    ct_node.SetAttribute("DICOM.instanceUIDs", " ".join(uids))
    Path(index[uids[-1]]).unlink()
    with pytest.raises(InputError, match=r"1 of the \d+ slices .* or their files are gone"):
        logic.check(scene.AddNewNodeByClass("vtkMRMLSegmentationNode"), ct_node)


def test_without_a_lookup_outside_slicer_the_database_is_reported_closed(scene, database) -> None:
    assert not hasattr(slicer, "dicomDatabase")  # only the application has one
    ct_node = browser_loaded_ct(scene, database)
    with pytest.raises(InputError, match="Slicer's DICOM database is not open") as raised:
        OARContourLogic().autoSegment(ct_node, engine="classical")
    assert "Open the DICOM module" in raised.value.hint
    with pytest.raises(InputError, match="not open"):
        dicom_database_lookup()
