"""The laterality QA rules catch side errors on engine output, in every patient position and orientation."""

from __future__ import annotations

import numpy as np
import pytest
from OARContourLib.autoseg import segment_classical
from OARContourLib.autoseg.result import make_structure
from OARContourLib.ct.model import ImageGeometry
from OARContourLib.mask_block import crop
from OARContourLib.qa import QAContext, check_structures
from OARContourLib.qa.rules_laterality import PairConnected, pair_masks
from OARContourLib.rtstruct.model import Structure
from testsupport import autoseg_cases as cases

SIDE_CODES = {"LATERALITY", "SWAPPED_PAIR", "PAIR_SAME_SIDE", "PAIR_CONNECTED"}
POSITIONS = ("HFS", "FFS", "HFP", "FFP")


def side_codes(masks: dict[str, np.ndarray], case: cases.Case) -> list[str]:
    structures = [make_structure(name, mask, "test") for name, mask in masks.items()]
    return sorted(f.code for f in check_structures(structures, case.geometry) if f.code in SIDE_CODES)


@pytest.fixture(scope="module", params=POSITIONS)
def engine_output(request) -> tuple[cases.Case, dict[str, np.ndarray]]:
    case = cases.phantom_case(f"phantom {request.param}", patient_position=request.param)
    return case, segment_classical(case.ct, ["Body", "SpinalCanal", "Lung_L", "Lung_R"]).masks


def test_correct_sides_pass(engine_output) -> None:
    case, masks = engine_output
    assert side_codes(masks, case) == []


def test_lung_on_the_wrong_side(engine_output) -> None:
    case, masks = engine_output
    wrong = {"Body": masks["Body"], "SpinalCanal": masks["SpinalCanal"], "Lung_L": masks["Lung_R"]}
    assert side_codes(wrong, case) == ["LATERALITY"]


def test_pair_swapped(engine_output) -> None:
    case, masks = engine_output
    swapped = {**masks, "Lung_L": masks["Lung_R"], "Lung_R": masks["Lung_L"]}
    assert side_codes(swapped, case) == ["SWAPPED_PAIR"]


def test_pair_on_one_side(engine_output) -> None:
    case, masks = engine_output
    lung = masks["Lung_L"]
    slices = np.flatnonzero(lung.any(axis=(1, 2)))
    middle = slices[len(slices) // 2]
    upper, lower = lung.copy(), lung.copy()
    upper[middle - 1:] = False
    lower[:middle + 1] = False  # two slices apart: separate regions, both on the left
    assert side_codes({**masks, "Lung_L": upper, "Lung_R": lower}, case) == ["LATERALITY", "PAIR_SAME_SIDE"]


def test_pair_overlapping(engine_output) -> None:
    case, masks = engine_output
    overlapping = {**masks, "Lung_R": masks["Lung_R"] | masks["Lung_L"]}
    assert "PAIR_CONNECTED" in side_codes(overlapping, case)


@pytest.mark.parametrize("orientation", list(cases.ORIENTATIONS))
def test_one_lung_split_in_two_named_left_and_right(orientation: str) -> None:
    # The reported error: a crop around one lung, the lung cut in two at the body centre and the
    # halves named Lung_L and Lung_R. Without a spine the midline is the body centre, so each half
    # is on "its" side: only the connected-region rule can see it.
    case = cases.reoriented(cases.cropped_to_right_side(False)(cases.phantom_case()), orientation)
    masks = segment_classical(case.ct, ["Body", "Lung_R"]).masks
    lung = masks["Lung_R"]
    offsets = cases.lps_grid(case.geometry)[0] - cases.centroid_lps(masks["Body"], case.geometry)[0]
    split = {"Body": masks["Body"], "Lung_L": lung & (offsets > 0), "Lung_R": lung & (offsets <= 0)}
    assert split["Lung_L"].any() and split["Lung_R"].any()
    assert side_codes(split, case) == ["PAIR_CONNECTED"]
    assert side_codes({"Body": masks["Body"], "Lung_R": lung}, case) == []


def test_touching_lungs_split_correctly_pass() -> None:
    case = cases.phantom_case("touching", cases.touching_lungs)
    masks = segment_classical(case.ct, ["Body", "SpinalCanal", "Lung_L", "Lung_R"]).masks
    assert side_codes(masks, case) == []


def test_real_lung_split_in_two_is_caught(shared_data) -> None:
    # The reported case on a real CT: a crop around the right lung, cut at the body centre.
    case = cases.cropped_to_right_side(False)(cases.totalsegmentator_thorax_case(shared_data))
    masks = segment_classical(case.ct, ["Body", "Lung_R"]).masks
    offsets = cases.lps_grid(case.geometry)[0] - cases.centroid_lps(masks["Body"], case.geometry)[0]
    lung = masks["Lung_R"]
    split = {"Body": masks["Body"], "Lung_L": lung & (offsets > 0), "Lung_R": lung & (offsets <= 0)}
    assert "PAIR_CONNECTED" in side_codes(split, case)
    assert side_codes({"Body": masks["Body"], "Lung_R": lung}, case) == []


# -- PAIR_CONNECTED on the pair's blocks: the same findings as on the whole grid -----------------

PAIR_GRID = ImageGeometry(shape=(40, 96, 96), spacing_mm=(1.0, 1.0, 2.0), origin_lps=(-48.0, -48.0, 0.0),
                          direction=((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)))


def cuboid(k: slice, j: slice, i: slice) -> np.ndarray:
    mask = np.zeros(PAIR_GRID.shape, dtype=bool)
    mask[k, j, i] = True
    return mask


def pair_findings(left: np.ndarray, right: np.ndarray, as_blocks: bool) -> list[dict]:
    """PAIR_CONNECTED of Kidney_L/Kidney_R stored as blocks, or as whole-grid masks (the box is then the grid)."""
    structures = [Structure(name, *(crop(mask) if as_blocks else (mask, (0, 0, 0))))
                  for name, mask in (("Kidney_L", left), ("Kidney_R", right))]
    return [f.to_dict() for f in PairConnected().check(QAContext(structures, PAIR_GRID))]


PAIRS = {  # (Kidney_L, Kidney_R, the finding's words or None)
    "far apart": (cuboid(slice(30, 38), slice(60, 80), slice(70, 85)), cuboid(slice(2, 8), slice(5, 20), slice(5, 15)),
                  None),
    "one box cut in two": (cuboid(slice(10, 20), slice(30, 50), slice(48, 60)),
                           cuboid(slice(10, 20), slice(30, 50), slice(36, 48)), "one connected region"),
    "overlapping": (cuboid(slice(10, 20), slice(30, 50), slice(44, 60)), cuboid(slice(12, 20), slice(30, 50), slice(36, 50)),
                    "overlap (960 voxels)"),
    "touching along a line": (cuboid(slice(10, 30), slice(10, 30), slice(48, 60)),
                              cuboid(slice(10, 30), slice(29, 50), slice(36, 48)), None),
}


@pytest.mark.parametrize("case", list(PAIRS))
def test_pair_connected_on_blocks_equals_the_whole_grid(case: str) -> None:
    left, right, words = PAIRS[case]
    on_blocks = pair_findings(left, right, as_blocks=True)
    assert on_blocks == pair_findings(left, right, as_blocks=False)
    assert [f["code"] for f in on_blocks] == (["PAIR_CONNECTED"] if words else [])
    assert words is None or words in on_blocks[0]["message"]


def test_pair_masks_span_only_the_two_blocks() -> None:
    left, right, _ = PAIRS["one box cut in two"]
    placed = pair_masks(Structure("Kidney_L", *crop(left)), Structure("Kidney_R", *crop(right)))
    assert placed[0].shape == placed[1].shape == (10, 20, 24)  # not the 40×96×96 grid
    assert np.count_nonzero(placed[0]) == np.count_nonzero(left) and not (placed[0] & placed[1]).any()
    assert placed[0][:, :, 12:].all() and placed[1][:, :, :12].all()
