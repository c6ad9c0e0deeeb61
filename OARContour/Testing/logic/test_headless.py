"""headless.setup(): a real MRML scene and module logics on the slicer-core wheel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import slicer
import slicer.util
from OARContourLib import headless
from OARContourLib.errors import InputError

LIBRARY_ROOT = Path(__file__).resolve().parents[2]  # the folder holding OARContourLib
SHARED_NAMING = LIBRARY_ROOT.parents[1] / "shared" / "naming"

EXPECTED_LOGICS = {
    "colors": "vtkMRMLColorLogic",
    "volumes": "vtkSlicerVolumesLogic",
    "terminologies": "vtkSlicerTerminologiesModuleLogic",
    "segmentations": "vtkSlicerSegmentationsModuleLogic",
    "subjecthierarchy": "vtkSlicerSubjectHierarchyModuleLogic",
}


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (outside site-packages/slicer) with the library importable."""
    env = {**os.environ, "PYTHONPATH": str(LIBRARY_ROOT)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=LIBRARY_ROOT, timeout=120)


def test_setup_publishes_scene_and_module_logics(context: headless.HeadlessContext) -> None:
    assert slicer.mrmlScene is context.scene
    assert context.scene.IsA("vtkMRMLScene")
    for name, class_name in EXPECTED_LOGICS.items():
        module_logic = getattr(slicer.modules, name).logic()
        assert module_logic.IsA(class_name), name
        assert module_logic is context.logic(name)
        assert module_logic.GetMRMLScene() is context.scene, name
    assert context.application_logic.GetModuleLogic("Colors") is slicer.modules.colors.logic()


def test_default_color_tables_exist(scene) -> None:
    assert scene.GetNodeByID("vtkMRMLColorTableNodeGrey") is not None
    assert scene.GetNumberOfNodesByClass("vtkMRMLColorTableNode") > 10


def test_segmentation_converter_rules_are_registered(scene) -> None:
    segmentation_node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "OARs")
    segment_id = segmentation_node.GetSegmentation().AddEmptySegment("Lung_L", "Lung_L", [0.2, 0.5, 0.8])
    assert segment_id == "Lung_L"
    assert segmentation_node.GetSegmentation().GetNumberOfSegments() == 1
    assert segmentation_node.GetSegmentation().CreateRepresentation("Closed surface")


def test_segment_labelmap_round_trips_through_slicer_util(scene) -> None:
    volume = slicer.util.addVolumeFromArray(np.zeros((4, 5, 6), dtype=np.int16), name="ref")
    segmentation_node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
    segmentation_node.SetReferenceImageGeometryParameterFromVolumeNode(volume)
    segmentation_node.GetSegmentation().AddEmptySegment("Cord")
    mask = np.zeros((4, 5, 6), dtype=np.uint8)
    mask[1:3, 2, 1:4] = 1
    slicer.util.updateSegmentBinaryLabelmapFromArray(mask, segmentation_node, "Cord", volume)
    read_back = slicer.util.arrayFromSegmentBinaryLabelmap(segmentation_node, "Cord", volume)
    np.testing.assert_array_equal(read_back, mask)


def test_setup_again_gives_a_fresh_scene_without_duplicate_converter_rules() -> None:
    factory = slicer.vtkSegmentationConverterFactory.GetInstance()
    first = headless.setup()
    first.scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "left over")
    rules = len(factory.GetConverterRules())
    second = headless.setup()
    try:
        assert second.scene is not first.scene
        assert slicer.mrmlScene is second.scene
        assert first.closed and not second.closed
        assert second.scene.GetFirstNodeByName("left over") is None
        assert len(factory.GetConverterRules()) == rules
        assert headless.active_context() is second
    finally:
        headless.teardown()


def test_teardown_removes_the_published_scene() -> None:
    context = headless.setup()
    headless.teardown()
    assert context.closed
    assert not hasattr(slicer, "mrmlScene")
    assert not hasattr(slicer, "modules")
    assert headless.active_context() is None


def test_setup_refuses_to_run_inside_the_slicer_application(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slicer, "app", object(), raising=False)
    with pytest.raises(InputError, match="inside the Slicer application") as caught:
        headless.setup()
    assert caught.value.code == "HEADLESS_INSIDE_SLICER"


def test_setup_rejects_a_missing_terminology_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="missing-terms"):
        headless.setup(terminology_dir=tmp_path / "missing-terms")


def test_setup_without_slicer_core_says_how_to_install() -> None:
    result = run_python(
        "import sys\n"
        "sys.modules['slicer'] = None  # as if slicer-core were not installed\n"
        "from OARContourLib import headless\n"
        "from OARContourLib.errors import InputError\n"
        "try:\n"
        "    headless.setup()\n"
        "except InputError as error:\n"
        "    print('HINT', error.hint)\n"
    )
    assert result.returncode == 0, result.stderr
    assert "HINT" in result.stdout and "pip install 'oarcontour[headless]'" in result.stdout


def test_core_packages_do_not_import_slicer() -> None:
    result = run_python(
        "import sys\n"
        "import OARContourLib, OARContourLib.ct, OARContourLib.ct.load, OARContourLib.errors\n"
        "print(sorted(m for m in ('slicer', 'qt', 'ctk') if m in sys.modules))\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_logic_is_importable_from_the_package_after_setup(scene) -> None:
    from OARContourLib import OARContourLogic
    from OARContourLib.logic import OARContourLogic as direct

    assert OARContourLogic is direct
    assert OARContourLogic().scene is scene


def test_headless_code_paths_need_no_vtkitk_alias(scene) -> None:
    # Only the MRML, volume and segmentation paths are used: no top-level vtkITK or
    # vtkSegmentationCorePython module has to be faked.
    assert "vtkITK" not in sys.modules
    assert "vtkSegmentationCorePython" not in sys.modules


def loaded_terminology_names(context: headless.HeadlessContext) -> list[str]:
    import vtk

    names = vtk.vtkStringArray()
    context.logic("Terminologies").GetLoadedTerminologyNames(names)
    return [names.GetValue(i) for i in range(names.GetNumberOfValues())]


def test_terminology_folder_files_are_loaded(tmp_path: Path) -> None:
    source = SHARED_NAMING / "SlicerTotalSegmentator_terminology.term.json"
    (tmp_path / source.name).write_bytes(source.read_bytes())
    context = headless.setup(terminology_dir=tmp_path)
    try:
        assert loaded_terminology_names(context) == ["Segmentation category and type - Total Segmentator"]
    finally:
        headless.teardown()


def test_without_terminology_folder_none_are_loaded(context: headless.HeadlessContext) -> None:
    assert loaded_terminology_names(context) == []


def test_unreadable_terminology_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "Broken.term.json").write_text("{ not json")
    with pytest.raises(InputError, match="Broken.term.json"):
        headless.setup(terminology_dir=tmp_path)
    assert headless.active_context() is None
