"""OARContourLogic.compareSegmentations on real MRML: the CLI's results for the same masks, pairing by
TG-263 name, a moved segment giving its shift, and the jump to the slice of largest disagreement."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import SimpleITK as sitk
from OARContourLib.cli.main import main
from OARContourLib.errors import InputError
from OARContourLib.logic import segmentation_nodes
from OARContourLib.mask_grid import mask_image
from OARContourLib.phantom import write_phantom
from OARContourLib.rtstruct.model import full_mask

SMALL = dict(rows=96, columns=96, pixel_spacing_mm=5.0, slices=24, slice_spacing_mm=8.0)
MOVED = "SpinalCanal"


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory):
    return write_phantom(tmp_path_factory.mktemp("compare") / "out", seed=4, **SMALL)


def trainee_copy(scene, seg_node, ct_node):
    """The segmentation as a trainee might hand it in: one segment moved two columns, one renamed, one missing."""
    structures = segmentation_nodes.read_structures(seg_node, ct_node)
    edited = []
    for structure in structures[1:]:
        if structure.name == MOVED:
            k, j, i = structure.offset_kji
            structure = dataclasses.replace(structure, offset_kji=(k, j, i + 2))
        elif structure.name == "Lung_L":
            structure = dataclasses.replace(structure, name="Lt Lung")
        edited.append(structure)
    return segmentation_nodes.create_segmentation_node(scene, ct_node, edited, "Trainee"), structures[0].name


def write_folder(seg_node, ct_node, geometry, folder):
    folder.mkdir()
    shape = geometry.shape
    for structure in segmentation_nodes.read_structures(seg_node, ct_node):
        sitk.WriteImage(mask_image(full_mask(structure, shape), geometry), str(folder / f"{structure.name}.nii.gz"))


def test_compare_segmentations_matches_the_cli_and_finds_the_shift(logic, scene, phantom, tmp_path, capsys):
    ct_node = logic.loadCT(phantom.ct_dir)
    reference = logic.autoSegment(ct_node)
    test, missing = trainee_copy(scene, reference, ct_node)
    result = logic.compareSegmentations(reference, test, tolerance=3.0)

    assert result.unpaired_reference == (missing,) and result.unpaired_test == ()
    assert ("Lung_L", "Lt Lung") in [(p.reference, p.test) for p in result.pairs]
    moved = result.pair(MOVED)
    column_mm = ct_node.GetSpacing()[0]
    assert moved.metrics.hd_max_mm == pytest.approx(2 * column_mm)
    assert moved.metrics.centroid_shift_mm == pytest.approx((2 * column_mm, 0.0, 0.0))  # +i is the patient's left
    assert moved.worst_slice_k is not None
    for pair in result.pairs:
        if pair.reference != MOVED:
            assert pair.metrics.dice == 1.0 and pair.metrics.hd_max_mm == 0.0

    from OARContourLib.logic.comparison import geometry_of

    geometry = geometry_of(ct_node)
    write_folder(reference, ct_node, geometry, tmp_path / "reference")
    write_folder(test, ct_node, geometry, tmp_path / "test")
    code = main(["compare", str(tmp_path / "reference"), str(tmp_path / "test"), "--ct", str(phantom.ct_dir),
                 "--tolerance", "3", "--json"])
    assert code == 0
    cli = json.loads(capsys.readouterr().out)
    logic_dict = result.to_dict()
    assert {p["reference"] for p in cli["pairs"]} == {p["reference"] for p in logic_dict["pairs"]}
    by_name = {p["reference"]: p for p in cli["pairs"]}
    for pair in logic_dict["pairs"]:
        for key, value in pair.items():
            assert by_name[pair["reference"]][key] == (pytest.approx(value) if isinstance(value, (float, list)) else value)

    target = logic.jumpToComparedSlice(reference, MOVED, moved.worst_slice_k)
    assert target is not None and target.slice_index == moved.worst_slice_k
    assert np.isfinite(target.ras_mm).all()


def test_without_a_ct_the_reference_geometry_volume_is_used_and_bad_maps_are_refused(logic, scene, phantom):
    ct_node = logic.loadCT(phantom.ct_dir)
    reference = logic.autoSegment(ct_node)
    same = logic.compareSegmentations(reference, reference)
    assert same.pairs and all(p.metrics.dice == 1.0 for p in same.pairs)
    with pytest.raises(InputError):
        logic.compareSegmentations(reference, reference, mapping={"Nothing": "Body"})
    orphan = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Orphan")
    with pytest.raises(InputError, match="names no CT"):
        logic.compareSegmentations(orphan, reference)
