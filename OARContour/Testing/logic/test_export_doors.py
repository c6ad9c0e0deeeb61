"""The same segments leave through the CLI (``oarcontour export``) and the Slicer Logic with the same
RT ROI Observations: type, interpreter, colour and codes (one appearance function decides them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from OARContourLib.cli.main import main
from OARContourLib.ct.load import load_ct
from OARContourLib.logic import segmentation_nodes
from OARContourLib.rtstruct.model import Structure
from OARContourLib.seg_nrrd import Segment, write_seg_nrrd

#: Names the tables know (with a SNOMED CT code, a PRV, a TG-263 target) and names they do not.
#: Every profile refuses spaces in a ROI name: "ptv high" and "Ring 2cm" are written as below (their spelled
#: forms are compared before writing in the next test).
NAMES = ("SpinalCord", "Parotid_L", "SpinalCord_PRV05", "PTV_7000", "Outline", "ptv_high", "ctv1", "Ring_2cm")


def observations(path: Path) -> dict[str, tuple]:
    """ROI name → (type, interpreter, colour, code items) as written."""
    ds = pydicom.dcmread(path)
    names = {int(r.ROINumber): str(r.ROIName) for r in ds.StructureSetROISequence}
    colours = {int(c.ReferencedROINumber): tuple(int(v) for v in c.ROIDisplayColor) for c in ds.ROIContourSequence}
    found = {}
    for item in ds.RTROIObservationsSequence:
        number = int(item.ReferencedROINumber)
        codes = tuple((c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning)
                      for c in item.get("RTROIIdentificationCodeSequence", []))
        found[names[number]] = (item.RTROIInterpretedType, str(item.get("ROIInterpreter", "")), colours[number], codes)
    return found


def test_cli_and_logic_write_the_same_observations(scene, logic, small_phantom, tmp_path: Path) -> None:
    ct = load_ct(small_phantom.ct_dir)
    rng = np.random.default_rng(3)
    structures = []
    for index, name in enumerate(NAMES):
        mask = np.zeros(ct.hu.shape, bool)
        mask[4:9, 8 + 6 * index:12 + 6 * index, 10:30] = True  # disjoint boxes, one per structure
        structures.append(Structure(name, mask, color=tuple(int(c) for c in rng.integers(0, 256, 3))))  # type: ignore[arg-type]
    seg_file = tmp_path / "doors.seg.nrrd"
    write_seg_nrrd(seg_file, [Segment(s.name, s.mask, s.color) for s in structures], ct.geometry.ijk_to_lps())
    cli_out = tmp_path / "cli.dcm"
    assert main(["--quiet", "export", str(small_phantom.ct_dir), str(seg_file), "--out", str(cli_out)]) == 0

    ct_node = logic.loadCT(small_phantom.ct_dir)
    node = segmentation_nodes.create_segmentation_node(scene, ct_node, structures, "doors")
    segmentation = node.GetSegmentation()
    for segment_id in segmentation_nodes.segment_ids(node):  # untagged, like a segment drawn by hand
        for tag in (segmentation_nodes.ROI_TYPE_TAG, segmentation_nodes.ALGORITHM_TAG,
                    segmentation_nodes.DESCRIPTION_TAG):
            segmentation.GetSegment(segment_id).RemoveTag(tag)
    (tmp_path / "logic").mkdir()
    logic_out = logic.exportRTSTRUCT(node, ct_node, tmp_path / "logic", structureSetLabel="Doors").path

    from_cli, from_logic = observations(cli_out), observations(logic_out)
    assert set(from_cli) == set(NAMES)
    assert from_cli == from_logic
    types = {name: found[0] for name, found in from_cli.items()}
    assert types == {"SpinalCord": "ORGAN", "Parotid_L": "ORGAN", "SpinalCord_PRV05": "AVOIDANCE", "PTV_7000": "PTV",
                     "Outline": "EXTERNAL", "ptv_high": "PTV", "ctv1": "CTV", "Ring_2cm": "AVOIDANCE"}
    assert from_cli["SpinalCord"][3] == (("2748008", "SCT", "Spinal cord structure"),)
    assert from_cli["Outline"][3] == ()


def test_names_with_spaces_get_the_same_structure_through_both_doors(scene, logic, small_phantom) -> None:
    from OARContourLib.cli.export import _structure
    from OARContourLib.mask_grid import MaskInput

    ct_node = logic.loadCT(small_phantom.ct_dir)
    mask = np.zeros(load_ct(small_phantom.ct_dir).hu.shape, bool)
    mask[4:9, 8:12, 10:30] = True
    names = ("ptv high", "Ring 2cm", "Outline", "ctv1")
    node = segmentation_nodes.create_segmentation_node(
        scene, ct_node, [Structure(n, mask, color=(10, 20, 30 + i)) for i, n in enumerate(names)], "spaces")
    segmentation = node.GetSegmentation()
    for index, segment_id in enumerate(segmentation_nodes.segment_ids(node)):
        segment = segmentation.GetSegment(segment_id)
        segment.RemoveTag(segmentation_nodes.ROI_TYPE_TAG)
        from_logic = segmentation_nodes.appearance_of(segment)
        from_cli = _structure(MaskInput(names[index], mask, (0, 0, 0), color=(10, 20, 30 + index)))
        assert (from_cli.roi_type, from_cli.color, from_cli.code) == (
            from_logic.roi_type, from_logic.color, from_logic.code)
        assert from_cli.roi_type.value == {"ptv high": "PTV", "Ring 2cm": "AVOIDANCE", "Outline": "EXTERNAL",
                                           "ctv1": "CTV"}[names[index]]


@pytest.mark.parametrize("label", ["A" * 17, ""])
def test_logic_refuses_an_invalid_label_before_writing(scene, logic, small_phantom, tmp_path: Path, label) -> None:
    from OARContourLib.errors import OARContourError

    ct_node = logic.loadCT(small_phantom.ct_dir)
    mask = np.zeros(load_ct(small_phantom.ct_dir).hu.shape, bool)
    mask[4:9, 8:12, 10:30] = True
    node = segmentation_nodes.create_segmentation_node(scene, ct_node, [Structure("Heart", mask)], "label")
    with pytest.raises(OARContourError, match="Structure Set Label"):
        logic.exportRTSTRUCT(node, ct_node, tmp_path, structureSetLabel=label)
    assert not list(tmp_path.iterdir())
