"""Block forms of the rasteriser, the round-trip Dice and the Outside-Body rule give the full-grid results."""

from __future__ import annotations

import numpy as np
import pytest
from OARContourLib.mask_block import MaskBlock, crop, fits, overlap_count, paste
from OARContourLib.metrics import block_dice
from OARContourLib.qa.rules_masks import _outside
from OARContourLib.rtstruct.model import Structure
from OARContourLib.rtstruct.rasterize import pack_polygons, rasterize_packed, rasterize_packed_block

SHAPE = (4, 30, 40)


def _polygons(seed: int) -> dict[int, list[np.ndarray]]:
    """Random polygons, some reaching past every edge of the grid and some on slices outside it."""
    rng = np.random.default_rng(seed)
    found: dict[int, list[np.ndarray]] = {}
    for _ in range(6):
        k = int(rng.integers(-1, SHAPE[0] + 1))
        centre = rng.uniform((-5, -5), (45, 35))
        angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(3, 9))))
        radius = rng.uniform(2, 15, len(angles))
        found.setdefault(k, []).append(np.c_[centre[0] + radius * np.cos(angles), centre[1] + radius * np.sin(angles)])
    return found


@pytest.mark.parametrize("seed", range(12))
def test_block_rasterisation_equals_the_full_grid(seed: int) -> None:
    points, offsets, slice_k = pack_polygons(_polygons(seed))
    full = rasterize_packed(points, offsets, slice_k, SHAPE)
    block, offset = rasterize_packed_block(points, offsets, slice_k, SHAPE)
    assert fits(block, offset, SHAPE) or block.size == 0
    np.testing.assert_array_equal(paste(block, offset, SHAPE), full)


def test_polygon_past_the_right_edge_fills_to_the_edge() -> None:
    square = {1: [np.array([[30.0, 2.0], [60.0, 2.0], [60.0, 9.0], [30.0, 9.0]])]}
    points, offsets, slice_k = pack_polygons(square)
    block, offset = rasterize_packed_block(points, offsets, slice_k, SHAPE)
    assert offset == (1, 2, 31) and block.shape == (1, 7, 9) and block.all()  # rows 2 <= j < 9, columns i > 30


@pytest.mark.parametrize("seed", range(6))
def test_block_dice_and_overlap_equal_full_grid_values(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = (rng.random(SHAPE) < 0.02, rng.random(SHAPE) < 0.03)
    a[:, :10] = b[:, 20:] = False  # different bounding boxes
    blocks = MaskBlock.of(a), MaskBlock.of(b)
    assert overlap_count(*blocks) == int((a & b).sum())
    assert block_dice(*blocks) == pytest.approx(2.0 * (a & b).sum() / (a.sum() + b.sum()), abs=1e-12)
    assert block_dice(MaskBlock.of(np.zeros(SHAPE, bool)), MaskBlock(np.zeros((0, 0, 0), bool))) == 1.0


def test_outside_body_on_a_block_equals_the_full_grid_count() -> None:
    rng = np.random.default_rng(1)
    body = np.zeros(SHAPE, bool)
    body[:, 5:25, 5:35] = True
    organ = rng.random(SHAPE) < 0.1
    organ[:, :, :20] = False
    block, offset = crop(organ)
    assert _outside(Structure("Organ", block, offset), body) == int((organ & ~body).sum()) > 0
    assert _outside(Structure("Organ", organ), body) == int((organ & ~body).sum())


def test_verification_with_blocks_equals_verification_with_full_masks(tmp_path) -> None:
    from OARContourLib.ct.load import load_ct
    from OARContourLib.phantom import write_phantom
    from OARContourLib.rtstruct.model import ExportOptions
    from OARContourLib.rtstruct.verify import verify_rtstruct
    from OARContourLib.rtstruct.write import write_rtstruct

    phantom = write_phantom(tmp_path / "p", rows=64, columns=64, slices=12, pixel_spacing_mm=6.0,
                            slice_spacing_mm=10.0, seed=3)
    ct = load_ct(phantom.ct_dir)
    shape = ct.hu.shape
    rng = np.random.default_rng(2)
    masks = {"Organ": rng.random(shape) < 0.05, "Box": np.zeros(shape, bool)}
    masks["Box"][2:6, 10:30, 0:20] = True
    write_rtstruct(tmp_path / "rs.dcm", ct, [Structure(n, m) for n, m in masks.items()], ExportOptions())
    edited = {**masks, "Box": np.roll(masks["Box"], 3, axis=2), "Lost": masks["Box"]}  # a low Dice, a missing ROI
    full = verify_rtstruct(tmp_path / "rs.dcm", ct, source_masks=edited)
    blocks = verify_rtstruct(tmp_path / "rs.dcm", ct, source_masks={n: MaskBlock.of(m) for n, m in edited.items()})
    assert full.dice == blocks.dice and full.dice["Box"] < 0.99
    assert [f.to_dict() for f in full.findings] == [f.to_dict() for f in blocks.findings]
    assert {"ROUND_TRIP_DICE_LOW", "ROUND_TRIP_ROI_MISSING"} <= {f.code for f in blocks.findings}


def test_qa_centroid_from_index_sums_equals_the_argwhere_mean() -> None:
    from OARContourLib.ct.model import ImageGeometry
    from OARContourLib.qa.context import QAContext

    geometry = ImageGeometry(shape=(20, 30, 40), spacing_mm=(0.7, 0.9, 2.5), origin_lps=(-1.3, 2.0, 5.5),
                             direction=((1.0, 0.0, 0.0), (0.0, 0.8, -0.6), (0.0, 0.6, 0.8)))
    context = QAContext([], geometry)
    rng = np.random.default_rng(0)
    for _ in range(50):
        shape = (int(rng.integers(1, 20)), int(rng.integers(1, 30)), int(rng.integers(1, 40)))
        mask = rng.random(shape) < rng.random()
        kji = np.argwhere(mask)
        expected = None if kji.size == 0 else (geometry.ijk_to_lps() @ np.append(
            (kji.mean(axis=0) + np.array((0, 0, 0)))[::-1], 1.0))[:3]
        found = context.centroid_lps(Structure("S", mask))
        assert (expected is None and found is None) or np.array_equal(found, expected)
