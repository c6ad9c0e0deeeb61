"""OARContourLogic.check: QA of a segmentation node on its CT, on real MRML."""

from __future__ import annotations

import pytest
from OARContourLib.errors import InputError
from OARContourLib.findings import Severity
from OARContourLib.phantom import write_phantom

SMALL = dict(rows=96, columns=96, pixel_spacing_mm=5.0, slices=24, slice_spacing_mm=8.0)


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory):
    return write_phantom(tmp_path_factory.mktemp("qa") / "out", seed=3, **SMALL)


def segment(seg_node, name: str):
    segmentation = seg_node.GetSegmentation()
    return segmentation.GetSegment(segmentation.GetSegmentIdBySegmentName(name))


def test_classical_result_has_no_errors_and_swapped_lungs_are_found(logic, phantom) -> None:
    ct_node = logic.loadCT(phantom.ct_dir)
    seg_node = logic.autoSegment(ct_node)
    findings = logic.check(seg_node, ct_node)
    assert [f for f in findings if f.severity is Severity.ERROR] == []
    left, right = segment(seg_node, "Lung_L"), segment(seg_node, "Lung_R")
    left.SetName("Lung_R")
    right.SetName("Lung_L")
    swapped = [f for f in logic.check(seg_node, ct_node) if f.code == "SWAPPED_PAIR"]
    assert [(f.roi_name, f.severity) for f in swapped] == [("Lung_L", Severity.ERROR)]


def test_unknown_template_is_an_input_error(logic, phantom) -> None:
    ct_node = logic.loadCT(phantom.ct_dir)
    seg_node = logic.autoSegment(ct_node)
    with pytest.raises(InputError, match="Unknown site template"):
        logic.check(seg_node, ct_node, template="Nowhere")
