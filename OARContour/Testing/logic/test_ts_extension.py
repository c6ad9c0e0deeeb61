"""The SlicerTotalSegmentator adapter: process() signature adaptation and segment-ID → TG-263 mapping on real MRML.

The two ``*StyleLogic`` classes below stand in for the extension's ``TotalSegmentatorLogic`` (which
needs the Slicer application, PyTorch and weights): they have the old (``fast=``) and new
(``quality=``) ``process`` signatures, keyword-only so a positional call would fail, and fill the
output node with segments whose IDs are TotalSegmentator class names, as the extension does.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest
import slicer
from OARContourLib.autoseg.engine import totalsegmentator_request
from OARContourLib.errors import InputError
from OARContourLib.logic import ts_extension
from OARContourLib.rtstruct.model import full_mask
from testsupport import fake_totalsegmentator


def _box(index: int, shape: tuple[int, int, int]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[fake_totalsegmentator.box_kji(index, shape)] = True
    return mask


def _add_segment(segmentation_node: Any, ct_node: Any, segment_id: str, display_name: str, mask: np.ndarray) -> None:
    segmentation_node.GetSegmentation().AddEmptySegment(segment_id, display_name, (1.0, 0.0, 0.0))
    slicer.util.updateSegmentBinaryLabelmapFromArray(mask.astype(np.uint8), segmentation_node, segment_id, ct_node)


def _draw(ct_node: Any, output: Any, task: str, subset: list[str] | None) -> None:
    """What the extension leaves in the output node: segment ID = class name, display name = a label."""
    output.CreateDefaultDisplayNodes()
    output.SetReferenceImageGeometryParameterFromVolumeNode(ct_node)
    shape = slicer.util.arrayFromVolume(ct_node).shape
    for index, name in enumerate(subset or fake_totalsegmentator.DEFAULT_CLASSES[task]):
        _add_segment(output, ct_node, name, name.replace("_", " ").title(), _box(index, shape))


class NewStyleLogic:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def process(self, *, inputVolume: Any, outputSegmentation: Any, quality: str = "normal", cpu: bool = False,
                task: str | None = None, subset: list[str] | None = None, interactive: bool = False,
                sequenceBrowserNode: Any = None) -> None:
        self.calls.append(dict(quality=quality, cpu=cpu, task=task, subset=subset, interactive=interactive))
        _draw(inputVolume, outputSegmentation, task or "total", subset)


class OldStyleLogic:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def process(self, *, inputVolume: Any, outputSegmentation: Any, fast: bool = True, cpu: bool = False,
                task: str | None = None, subset: list[str] | None = None, interactive: bool = False,
                sequenceBrowserNode: Any = None) -> None:
        self.calls.append(dict(fast=fast, cpu=cpu, task=task, subset=subset, interactive=interactive))
        _draw(inputVolume, outputSegmentation, task or "total", subset)


def test_new_signature_gets_quality() -> None:
    arguments = ts_extension.process_arguments(NewStyleLogic().process, task="total", subset=("heart",), fast=True,
                                               cpu=True)
    assert arguments == {"task": "total", "cpu": True, "interactive": False, "subset": ["heart"], "quality": "fast"}
    slow = ts_extension.process_arguments(NewStyleLogic().process, task="total", subset=None, fast=False, cpu=False)
    assert slow["quality"] == "normal" and "subset" not in slow


def test_old_signature_gets_fast_and_fastest() -> None:
    arguments = ts_extension.process_arguments(OldStyleLogic().process, task="total", subset=None, fast=True, cpu=False)
    assert arguments == {"task": "total", "cpu": False, "interactive": False, "fast": True}

    def with_fastest(inputVolume: Any, outputSegmentation: Any, fast: bool = True, fastest: bool = False,
                     task: str | None = None) -> None:
        pass

    assert ts_extension.process_arguments(with_fastest, task="total", subset=("heart",), fast=False, cpu=True) == {
        "task": "total", "fast": False, "fastest": False}


def test_a_process_without_task_runs_only_total() -> None:
    def oldest(inputVolume: Any, outputSegmentation: Any, fast: bool = True) -> None:
        pass

    assert ts_extension.process_arguments(oldest, task="total", subset=None, fast=True, cpu=False) == {"fast": True}
    with pytest.raises(InputError, match="cannot run task 'head_glands_cavities'.*Update the TotalSegmentator"):
        ts_extension.process_arguments(oldest, task="head_glands_cavities", subset=None, fast=True, cpu=False)


def test_segment_ids_map_to_tg263(scene, logic, small_phantom) -> None:
    ct_node = logic.loadCT(small_phantom.ct_dir)
    shape = slicer.util.arrayFromVolume(ct_node).shape
    node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "TotalSegmentator output")
    node.CreateDefaultDisplayNodes()
    node.SetReferenceImageGeometryParameterFromVolumeNode(ct_node)
    # Display names are terminology labels that vary by version; only the IDs may be trusted.
    _add_segment(node, ct_node, "heart", "Heart muscle", _box(0, shape))
    _add_segment(node, ct_node, "lung_upper_lobe_left", "Superior lobe of left lung", _box(1, shape))
    _add_segment(node, ct_node, "kidney_cyst_left", "Renal cyst", _box(2, shape))
    made, skipped, findings = ts_extension.structures_from_segmentation(node, ct_node, "total", "test")
    assert set(made) == {"Heart", "Lung_LUL", "Lung_L", "Lungs"}  # composites of the lobes present
    assert np.array_equal(full_mask(made["Heart"], shape), _box(0, shape))
    assert np.array_equal(full_mask(made["Lung_L"], shape), _box(1, shape))
    assert skipped["kidney_cyst_left"].startswith("no TG-263 equivalent")
    assert {(f.code, f.roi_name) for f in findings} == {("COMPOSITE_PARTIAL", "Lung_L"), ("COMPOSITE_PARTIAL", "Lungs")}


@pytest.mark.parametrize("style", [OldStyleLogic, NewStyleLogic])
def test_segment_with_extension(scene, logic, small_phantom, style) -> None:
    ct_node = logic.loadCT(small_phantom.ct_dir)
    shape = slicer.util.arrayFromVolume(ct_node).shape
    nodes_before = scene.GetNumberOfNodesByClass("vtkMRMLSegmentationNode")
    ts_logic = style()
    request = totalsegmentator_request(None, ["Heart", "Lung_L", "Parotid_L"], "cpu", True)
    result = ts_extension.segment_with_extension(ct_node, request, ts_logic=ts_logic)
    assert [call["task"] for call in ts_logic.calls] == ["total", "head_glands_cavities"]
    total, glands = ts_logic.calls
    assert total["subset"] == ["heart", "lung_lower_lobe_left", "lung_upper_lobe_left"] and glands["subset"] is None
    assert all(call["cpu"] is True and call["interactive"] is False for call in ts_logic.calls)
    assert total.get("fast", total.get("quality") == "fast") is True
    assert [s.name for s in result.structures] == ["Heart", "Lung_L", "Parotid_L"]
    assert np.array_equal(full_mask(result.structure("Heart"), shape), _box(0, shape))
    assert np.array_equal(full_mask(result.structure("Lung_L"), shape), _box(1, shape) | _box(2, shape))
    assert np.array_equal(full_mask(result.structure("Parotid_L"), shape), _box(0, shape))
    assert result.provenance["engine"] == "totalsegmentator"
    assert [r["task"] for r in result.provenance["runs"]] == ["total", "head_glands_cavities"]
    assert scene.GetNumberOfNodesByClass("vtkMRMLSegmentationNode") == nodes_before  # scratch nodes removed


def test_headless_logic_uses_the_core_engine(scene, logic, small_phantom, monkeypatch) -> None:
    assert not ts_extension.extension_available()
    monkeypatch.setenv("OARCONTOUR_TS_PYTHON", sys.executable)  # an interpreter without TotalSegmentator
    ct_node = logic.loadCT(small_phantom.ct_dir)
    with pytest.raises(InputError, match=r"TotalSegmentator cannot run: TotalSegmentator is not installed in"):
        logic.autoSegment(ct_node, engine="totalsegmentator", structures=["Heart"], device="cpu", fast=True)
    assert scene.GetNumberOfNodesByClass("vtkMRMLSegmentationNode") == 0
