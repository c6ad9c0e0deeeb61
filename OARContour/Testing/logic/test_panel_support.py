"""The Logic methods behind the module panel, on real MRML (slicer-core) and the phantom's true masks.

Names table rows, a person's rename, the slice a finding jumps to, the Segment Editor node, the
window presets, the combo box contents and the review report: everything the panel shows or does
that a test without Qt can reach.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
import slicer
import slicer.util
from OARContourLib.errors import InputError, NamingError
from OARContourLib.logic import segmentation_nodes
from OARContourLib.naming.resolve import suggest
from OARContourLib.rtstruct.model import RoiType, Structure

TRUE_NAMES = ("SpinalCanal", "Heart", "Lung_L")


def true_mask(phantom, name: str) -> np.ndarray:
    return sitk.GetArrayFromImage(sitk.ReadImage(str(phantom.truth_dir / f"{name}.nii.gz"))) > 0


@pytest.fixture()
def ct_node(logic, small_phantom):
    return logic.loadCT(small_phantom.ct_dir)


def segmentation_of(scene, ct_node, structures) -> object:
    return segmentation_nodes.create_segmentation_node(scene, ct_node, structures, "panel")


def names_of(seg_node) -> list[str]:
    segmentation = seg_node.GetSegmentation()
    return [segmentation.GetSegment(i).GetName() for i in segmentation_nodes.segment_ids(seg_node)]


# --- Names table ---------------------------------------------------------------------------------


def test_suggest_names_lists_what_apply_naming_then_applies(scene, logic, ct_node, small_phantom) -> None:
    heart = true_mask(small_phantom, "Heart")
    local = ["Lt Lung", "cord", "Heart", "xyzzy", "Parotid"]
    colors = [(10, 20, 30), (40, 50, 60), (70, 80, 90), (1, 2, 3), (4, 5, 6)]
    seg_node = segmentation_of(scene, ct_node, [Structure(n, heart, color=c, roi_type=RoiType.AVOIDANCE if n == "cord"
                                                          else RoiType.ORGAN) for n, c in zip(local, colors)])
    rows = logic.suggestNames(seg_node)
    assert names_of(seg_node) == local, "suggestNames must not rename anything"
    assert [r.segment_id for r in rows] == local and [r.current_name for r in rows] == local
    for row, name in zip(rows, local):
        best = suggest(name, limit=1)
        assert row.suggested_name == (best[0].name if best else name)
    by_name = {r.current_name: r for r in rows}
    assert (by_name["Lt Lung"].suggested_name, by_name["Lt Lung"].will_apply) == ("Lung_L", True)
    assert not by_name["Heart"].will_apply and not by_name["xyzzy"].will_apply
    assert not by_name["Parotid"].suggested_name.endswith(("_L", "_R")), "a side was guessed"
    assert by_name["cord"].color == (40, 50, 60) and by_name["cord"].roi_type is RoiType.AVOIDANCE
    renames = logic.applyNaming(seg_node)
    assert [r.applied for r in renames] == [r.will_apply for r in rows]
    assert names_of(seg_node) == [r.suggested_name if r.will_apply else r.current_name for r in rows]


def test_a_lower_threshold_marks_more_rows_but_still_never_guesses_a_side(scene, logic, ct_node,
                                                                         small_phantom) -> None:
    mask = true_mask(small_phantom, "Heart")
    seg_node = segmentation_of(scene, ct_node, [Structure(n, mask) for n in ("Hart", "Parotid")])
    strict = {r.current_name: r.will_apply for r in logic.suggestNames(seg_node, minConfidence=0.99)}
    loose = {r.current_name: r for r in logic.suggestNames(seg_node, minConfidence=0.0)}
    assert strict == {"Hart": False, "Parotid": False}
    assert loose["Hart"].will_apply and loose["Hart"].suggested_name == "Heart"
    assert not loose["Parotid"].suggested_name.endswith(("_L", "_R"))


def test_untagged_segment_shows_the_table_type(scene, logic, ct_node, small_phantom) -> None:
    seg_node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
    seg_node.SetReferenceImageGeometryParameterFromVolumeNode(ct_node)
    seg_node.GetSegmentation().AddEmptySegment("External", "External", (0.5, 0.5, 0.5))
    slicer.util.updateSegmentBinaryLabelmapFromArray(true_mask(small_phantom, "Body").astype(np.uint8), seg_node,
                                                     "External", ct_node)
    (row,) = logic.suggestNames(seg_node)
    assert row.roi_type is RoiType.EXTERNAL and row.color == (128, 128, 128)


# --- renaming by a person ------------------------------------------------------------------------


@pytest.fixture()
def named_segments(scene, ct_node, small_phantom):
    truth = {"Lung_L": "Lung_L", "Heart": "Heart", "cord": "SpinalCord"}
    structures = [Structure(name, true_mask(small_phantom, source)) for name, source in truth.items()]
    return segmentation_of(scene, ct_node, structures)


def test_rename_segment_keeps_the_id_and_records_the_edit(logic, named_segments) -> None:
    rename = logic.renameSegment(named_segments, "cord", "SpinalCord")
    assert (rename.segment_id, rename.old_name, rename.new_name, rename.applied) == ("cord", "cord", "SpinalCord", True)
    assert names_of(named_segments) == ["Lung_L", "Heart", "SpinalCord"]
    assert named_segments.GetSegmentation().GetSegment("cord").GetName() == "SpinalCord"


@pytest.mark.parametrize("bad, match", [
    ("Spinal Cord", "no spaces|space"),
    ("", "empty"),
    ("AVeryLongStructureName", "16|long"),
    ("Heart", "already named"),
    ("heart", "other capitals"),
    ("Blob", "not a TG-263 name"),
])
def test_rename_refuses_names_an_export_would_refuse(logic, named_segments, bad: str, match: str) -> None:
    with pytest.raises(NamingError, match=match) as raised:
        logic.renameSegment(named_segments, "cord", bad)
    assert raised.value.hint, "the error must say what to do"
    assert names_of(named_segments) == ["Lung_L", "Heart", "cord"], "a refused rename changed a name"


def test_changing_a_stated_side_needs_confirmation(logic, named_segments) -> None:
    assert logic.sideChange(named_segments, "Lung_L", "Lung_R") == "'Lung_L' is side L, but 'Lung_R' is side R"
    assert logic.sideChange(named_segments, "Lung_L", "Lungs") == "'Lung_L' is side L, but 'Lungs' has no side"
    assert logic.sideChange(named_segments, "Heart", "Heart") == ""
    with pytest.raises(NamingError, match="change a side") as raised:
        logic.renameSegment(named_segments, "Lung_L", "Lung_R")
    assert raised.value.code == "NAME_SIDE_CHANGE"
    assert names_of(named_segments)[0] == "Lung_L"
    logic.renameSegment(named_segments, "Lung_L", "Lung_R", sideChangeConfirmed=True)
    assert names_of(named_segments)[0] == "Lung_R"


def test_adding_a_side_to_a_sideless_name_is_the_persons_statement(logic, named_segments) -> None:
    assert logic.sideChange(named_segments, "cord", "Lung_L") == ""
    with pytest.raises(InputError, match="no segment 'nope'"):
        logic.renameSegment(named_segments, "nope", "Heart")


# --- findings → slice views ----------------------------------------------------------------------


def expected_ras(small_phantom, ijk) -> np.ndarray:
    # The phantom writer's own geometry, not the node's matrix: an independent reference.
    return (np.asarray(small_phantom.geometry.ijk_to_ras(), float) @ np.array([*ijk, 1.0]))[:3]


def test_finding_target_is_the_segment_centre_on_its_slice(scene, logic, ct_node, small_phantom) -> None:
    canal = true_mask(small_phantom, "SpinalCanal")
    seg_node = segmentation_of(scene, ct_node, [Structure("SpinalCanal", canal)])
    k = int(np.nonzero(canal.any(axis=(1, 2)))[0][len(np.nonzero(canal.any(axis=(1, 2)))[0]) // 2])
    j, i = np.nonzero(canal[k])
    target = logic.findingTarget(seg_node, ct_node, "SpinalCanal", k)
    assert target.segment_id == "SpinalCanal" and target.slice_index == k
    np.testing.assert_allclose(target.ijk, (i.mean(), j.mean(), k))
    np.testing.assert_allclose(target.ras_mm, expected_ras(small_phantom, target.ijk), atol=1e-3)
    # The canal is a tube: its centre on a slice lies inside it.
    ci, cj, ck = (round(v) for v in target.ijk)
    assert canal[ck, cj, ci]


def test_finding_target_without_slice_is_the_segment_centroid(scene, logic, ct_node, small_phantom) -> None:
    heart = true_mask(small_phantom, "Heart")
    seg_node = segmentation_of(scene, ct_node, [Structure("Heart", heart)])
    k, j, i = np.nonzero(heart)
    target = logic.findingTarget(seg_node, ct_node, "Heart", None)
    np.testing.assert_allclose(target.ijk, (i.mean(), j.mean(), k.mean()))
    np.testing.assert_allclose(target.ras_mm, expected_ras(small_phantom, target.ijk), atol=1e-3)


def test_finding_on_an_empty_slice_or_unknown_roi_shows_the_slice_centre(scene, logic, ct_node,
                                                                        small_phantom) -> None:
    heart = true_mask(small_phantom, "Heart")
    seg_node = segmentation_of(scene, ct_node, [Structure("Heart", heart)])
    empty_k = int(np.nonzero(~heart.any(axis=(1, 2)))[0][0])
    shape = heart.shape
    centre = ((shape[2] - 1) / 2, (shape[1] - 1) / 2, empty_k)
    assert logic.findingTarget(seg_node, ct_node, "Heart", empty_k).ijk == pytest.approx(centre)
    unknown = logic.findingTarget(seg_node, ct_node, "NotThere", empty_k)
    assert unknown.segment_id is None and unknown.ijk == pytest.approx(centre)
    assert logic.findingTarget(seg_node, ct_node, "NotThere", None) is None
    assert logic.findingTarget(seg_node, ct_node, None, None) is None
    with pytest.raises(InputError, match="outside CT"):
        logic.findingTarget(seg_node, ct_node, "Heart", shape[0])


def test_jump_to_finding_moves_an_axial_slice_view(scene, logic, ct_node, small_phantom) -> None:
    heart = true_mask(small_phantom, "Heart")
    seg_node = segmentation_of(scene, ct_node, [Structure("Heart", heart)])
    red = scene.AddNewNodeByClass("vtkMRMLSliceNode", "Red")
    red.SetLayoutName("Red")
    red.SetOrientationToAxial()
    k = int(np.nonzero(heart.any(axis=(1, 2)))[0][0])
    target = logic.jumpToFinding(seg_node, ct_node, "Heart", k)
    assert red.GetSliceOffset() == pytest.approx(target.ras_mm[2], abs=1e-3)
    slice_to_ras = red.GetSliceToRAS()
    centre = [slice_to_ras.GetElement(row, 3) for row in range(3)]
    np.testing.assert_allclose(centre, target.ras_mm, atol=1e-3)


def test_findings_from_check_lead_to_their_slice(scene, logic, ct_node, small_phantom) -> None:
    # A gap in the canal is a real finding with a slice index; its target must be on that slice.
    canal = true_mask(small_phantom, "SpinalCanal")
    rows = np.nonzero(canal.any(axis=(1, 2)))[0]
    gap = canal.copy()
    gap[rows[len(rows) // 2]] = False
    seg_node = segmentation_of(scene, ct_node, [Structure("SpinalCanal", gap), Structure("Body", true_mask(
        small_phantom, "Body"))])
    located = [f for f in logic.check(seg_node, ct_node) if f.slice_index is not None and f.roi_name]
    assert located, "the phantom check found no finding with a slice; the gap rule did not fire"
    for finding in located:
        target = logic.findingTarget(seg_node, ct_node, finding.roi_name, finding.slice_index)
        assert target.ijk[2] == finding.slice_index


# --- Edit section: Segment Editor node and presets -----------------------------------------------


def test_segment_editor_node_lets_structures_overlap(scene, logic, ct_node, named_segments) -> None:
    node = logic.segmentEditorNode(named_segments, ct_node)
    assert node.GetOverwriteMode() == node.OverwriteNone
    assert node.GetMaskMode() == slicer.vtkMRMLSegmentationNode.EditAllowedEverywhere
    assert node.GetSegmentationNode() is named_segments and node.GetSourceVolumeNode() is ct_node
    # Tagged before AddNode (as Slicer's Segment Editor does): the scene gives it the singleton ID.
    assert node.GetSingletonTag() == "OARContour"
    assert node.GetID() == "vtkMRMLSegmentEditorNode" + node.GetSingletonTag()
    assert scene.GetSingletonNode("OARContour", "vtkMRMLSegmentEditorNode") is node


def test_segment_editor_node_keeps_the_users_overwrite_mode(scene, logic, ct_node, named_segments) -> None:
    node = logic.segmentEditorNode(named_segments, ct_node)
    node.SetOverwriteMode(node.OverwriteVisibleSegments)  # the user's choice in the editor
    node.SetMaskMode(slicer.vtkMRMLSegmentationNode.EditAllowedInsideAllSegments)
    again = logic.segmentEditorNode(named_segments, ct_node)  # what every parameter change calls
    assert again is node, "the panel must reuse one editor node per scene"
    assert again.GetOverwriteMode() == node.OverwriteVisibleSegments, "the user's overwrite mode was reset"
    assert again.GetMaskMode() == slicer.vtkMRMLSegmentationNode.EditAllowedInsideAllSegments
    assert scene.GetNumberOfNodesByClass("vtkMRMLSegmentEditorNode") == 1


def test_segment_editor_node_gets_rt_defaults_again_after_a_scene_close(scene, logic) -> None:
    node = logic.segmentEditorNode()
    node.SetOverwriteMode(node.OverwriteVisibleSegments)
    scene.Clear(0)  # what File > Close Scene and the self-test's setUp do: singletons kept, but reset
    assert scene.GetSingletonNode("OARContour", "vtkMRMLSegmentEditorNode") is node
    assert node.GetOverwriteMode() == node.OverwriteAllSegments, "Slicer no longer resets singletons on close"
    assert logic.segmentEditorNode() is node
    assert node.GetOverwriteMode() == node.OverwriteNone, "after a scene close the editor would erase overlaps"


@pytest.mark.parametrize("preset, window, level", [("soft_tissue", 400, 40), ("lung", 1500, -600),
                                                   ("bone", 1800, 400)])
def test_window_presets(logic, ct_node, preset: str, window: float, level: float) -> None:
    logic.applyWindowPreset(ct_node, preset)
    display = ct_node.GetDisplayNode()
    assert (display.GetWindow(), display.GetLevel(), display.GetAutoWindowLevel()) == (window, level, 0)
    threshold = logic.intensityPreset(preset)
    assert threshold.level_hu - threshold.window_hu / 2 <= threshold.threshold_max_hu
    assert threshold.threshold_min_hu < threshold.threshold_max_hu


def test_unknown_presets_list_the_known_ones(logic, ct_node) -> None:
    with pytest.raises(InputError, match="soft_tissue, lung, bone"):
        logic.applyWindowPreset(ct_node, "brain")
    with pytest.raises(InputError, match="remove_islands"):
        logic.effectPreset("sharpen")
    assert logic.effectPreset("fill_between_slices").needs_preview


# --- combo boxes and the structure checklist -----------------------------------------------------


def test_panel_choices_come_from_the_tables(logic) -> None:
    from OARContourLib.naming.tables import load_tables
    from OARContourLib.rtstruct.profiles import PROFILE_IDS

    choices = logic.panelChoices()
    assert [c.value for c in choices.engines][:1] == ["classical"]
    assert [c.value for c in choices.templates] == list(load_tables().templates)
    assert [c.value for c in choices.tps_profiles] == list(PROFILE_IDS)
    export = {c.value: c for c in choices.export_engines}
    assert export["builtin"].available
    # slicer-core has no SlicerRT: the choice is shown, disabled, with the reason.
    assert not export["slicerrt"].available and "not installed" in export["slicerrt"].reason


def test_structure_checklist_of_a_template_explains_what_is_missing(logic) -> None:
    choices = logic.structureChoices("classical", "Thorax")
    available = [c.name for c in choices if c.available]
    missing = {c.name: c.reason for c in choices if not c.available}
    assert "Lung_L" in available and "SpinalCanal" in available
    assert "Heart" in missing and missing["Heart"]
    from OARContourLib.autoseg import SUPPORTED_STRUCTURES

    everything = logic.structureChoices("classical")
    assert [c.name for c in everything] == list(SUPPORTED_STRUCTURES) and all(c.available for c in everything)
    with pytest.raises(InputError, match="Unknown site template"):
        logic.structureChoices("classical", "Nowhere")


def test_auto_segment_checked_passes_the_template_only_when_all_are_checked(logic, small_phantom) -> None:
    import json

    ct = logic.loadCT(small_phantom.ct_dir)
    offered = [c.name for c in logic.structureChoices("classical", "Thorax") if c.available]
    full = logic.autoSegmentChecked(ct, "classical", "Thorax", offered)
    assert json.loads(full.GetAttribute("OARContour.Provenance"))["template"] == "Thorax"
    part = logic.autoSegmentChecked(ct, "classical", "Thorax", ["Body"])
    assert names_of(part) == ["Body"]
    assert json.loads(part.GetAttribute("OARContour.Provenance"))["template"] is None
    with pytest.raises(InputError, match="No structure"):
        logic.autoSegmentChecked(ct, "classical", "Thorax", [])


# --- review report -------------------------------------------------------------------------------


def test_write_report_writes_a_page_for_the_export(scene, logic, ct_node, small_phantom, tmp_path: Path) -> None:
    structures = [Structure(n, true_mask(small_phantom, n)) for n in TRUE_NAMES]
    seg_node = segmentation_of(scene, ct_node, structures)
    exported = logic.exportRTSTRUCT(seg_node, ct_node, tmp_path, structureSetLabel="Panel")
    result = logic.writeReport(exported.path, ct_node, tmp_path / "review.html")
    out = tmp_path / "review.html"
    assert Path(result.path) == out and out.is_file() and result.structure_count == len(TRUE_NAMES)
    text = out.read_text(encoding="utf-8")
    assert all(name in text for name in TRUE_NAMES)
    with pytest.raises(InputError, match="exists"):
        logic.writeReport(exported.path, ct_node, out)
