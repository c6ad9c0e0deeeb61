"""OARContourLib.compare: pairing by TG-263 name, per-pair results on cropped blocks, direction words."""

from __future__ import annotations

import numpy as np
import pytest
from OARContourLib.compare import StructureSet, compare_structure_sets, pair_names, parse_mapping, summary_sentences
from OARContourLib.compare.blocks import pair_grid
from OARContourLib.ct.model import ImageGeometry
from OARContourLib.errors import InputError
from OARContourLib.mask_block import crop
from OARContourLib.mask_grid import MaskInput
from OARContourLib.metrics import compare_masks

#: Direction matrices (columns: i, j, k axes in LPS) of four patient positions on an axial scan.
POSITIONS = {"HFS": np.diag([1.0, 1.0, 1.0]), "HFP": np.diag([-1.0, -1.0, 1.0]),
             "FFS": np.diag([-1.0, 1.0, -1.0]), "FFP": np.diag([1.0, -1.0, -1.0])}


def geometry(position: str = "HFS", shape=(30, 50, 60), spacing=(1.0, 1.5, 2.0)) -> ImageGeometry:
    direction = POSITIONS[position]
    return ImageGeometry(shape, spacing, (10.0, -20.0, 5.0), tuple(tuple(row) for row in direction))  # type: ignore[arg-type]


def lps_box(g: ImageGeometry, low_mm, high_mm) -> np.ndarray:
    """Voxels whose centres lie in an LPS box given relative to the grid's centre voxel (built from
    coordinates, so any array orientation works)."""
    k, j, i = np.indices(g.shape)
    points = g.ijk_to_lps() @ np.stack([i.ravel(), j.ravel(), k.ravel(), np.ones(i.size)])
    centre = g.ijk_to_lps() @ np.array([g.shape[2] // 2, g.shape[1] // 2, g.shape[0] // 2, 1.0])
    relative = points[:3].T - centre[:3]
    inside = np.all((relative >= np.subtract(low_mm, 0.01)) & (relative <= np.add(high_mm, 0.01)), axis=1)
    return inside.reshape(g.shape)


def structure_set(*named: tuple[str, np.ndarray]) -> StructureSet:
    return StructureSet("memory", tuple(MaskInput(name, *crop(mask)) for name, mask in named))


def test_names_pair_through_tg263_and_sides_are_never_guessed():
    pairing = pair_names(["Parotid L", "Lt Submandibular", "Parotid", "Heart", "Heart "],
                         ["Parotid_L", "Glnd_Submand_L", "Parotid_R", "heart", "Brain"])
    assert pairing.pairs == (("Parotid L", "Parotid_L"), ("Lt Submandibular", "Glnd_Submand_L"), ("Heart", "heart"))
    assert pairing.unpaired_reference == ("Parotid", "Heart ")
    assert pairing.unpaired_test == ("Parotid_R", "Brain")


def test_map_overrides_names_and_is_checked():
    mapping = parse_mapping(["Cord=SpinalCord_PRV05"])
    pairing = pair_names(["Cord", "SpinalCord"], ["SpinalCord", "SpinalCord_PRV05"], mapping)
    assert pairing.pairs == (("Cord", "SpinalCord_PRV05"), ("SpinalCord", "SpinalCord"))
    for bad in (["Cord"], ["=B"], ["A=B", "A=C"]):
        with pytest.raises(InputError):
            parse_mapping(bad)
    with pytest.raises(InputError):
        pair_names(["Cord"], ["SpinalCord"], {"Cord": "Brain"})


def test_blocks_give_the_same_metrics_as_full_masks_and_slices_on_the_ct_grid():
    g = geometry()
    a = lps_box(g, (-10.0, -15.0, -20.0), (10.0, 15.0, 10.0))
    b = lps_box(g, (-8.0, -12.0, -16.0), (10.0, 15.0, 16.0))
    full = compare_masks(a, b, g)
    grid = pair_grid(MaskInput("a", *crop(a)), MaskInput("b", *crop(b)), g)
    assert compare_masks(grid.reference, grid.test, grid.geometry).to_dict()["hd_max_mm"] == full.hd_max_mm
    result = compare_structure_sets(structure_set(("Heart", a)), structure_set(("Heart", b)), g)
    pair = result.pair("Heart")
    assert pair.metrics.to_dict() == full.to_dict()
    assert pair.worst_slice_k is not None and pair.worst_slice_k in full.slices_only_reference + full.slices_only_test
    with pytest.raises(InputError):
        compare_structure_sets(structure_set(("Heart", a)), structure_set(("Heart", b)), g, tolerance_mm=0)


@pytest.mark.parametrize("position", sorted(POSITIONS))
def test_direction_words_follow_the_patient_for_every_position(position):
    g = geometry(position)
    reference = lps_box(g, (-10.0, -15.0, -20.0), (10.0, 15.0, 20.0))
    test = lps_box(g, (-10.0, -15.0, -20.0), (14.0, 15.0, 20.0))  # 4 mm more toward the patient's left (+x)
    pair = compare_structure_sets(structure_set(("Parotid_L", reference)), structure_set(("Parotid_L", test)),
                                  g).pairs[0]
    x = next(e for e in pair.extensions if e.axis == 0)
    assert x.toward_plus_mm == pytest.approx(4.0) and x.toward_minus_mm == pytest.approx(0.0)
    assert all(e.size_change_mm == pytest.approx(0.0) for e in pair.extensions if e.axis != 0)
    sentences = summary_sentences(pair, 2.0)
    assert "Your Parotid_L is 4.0 mm larger left–right on average: it reaches 4.0 mm farther toward the patient's left" \
        in " ".join(sentences)
    assert pair.metrics.centroid_shift_mm == pytest.approx((2.0, 0.0, 0.0))
    assert any("2.0 mm toward the patient's left" in s for s in sentences)


def test_summary_of_a_missing_structure():
    g = geometry()
    a = lps_box(g, (-10.0, -15.0, -20.0), (10.0, 15.0, 10.0))
    pair = compare_structure_sets(structure_set(("Heart", a)), structure_set(("Heart", np.zeros_like(a))), g).pairs[0]
    assert summary_sentences(pair, 2.0) == ["Your Heart is empty."]
    assert pair.to_dict()["hd_max_mm"] is None and pair.to_dict()["dice"] == 0.0
