"""Tests of derived structures (OARContourLib.derive) on analytic shapes.

Volumes are compared with the analytic value of the continuous shape, not with another voxelisation.
"""

from __future__ import annotations

import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from OARContourLib.ct.model import ImageGeometry
from OARContourLib.derive import (
    DerivedResult,
    PrvRecipe,
    RingRecipe,
    SubtractRecipe,
    apply_recipes,
    crop_to,
    describe,
    expand,
    fill_holes,
    intersect,
    parse_recipe,
    prv_name,
    remove_islands,
    ring,
    ring_name,
    shrink,
    smooth,
    spacing_kji,
    subtract,
    subtraction_name,
    union,
)
from OARContourLib.errors import GeometryError, InputError, NamingError
from OARContourLib.rtstruct.model import RoiType
from scipy import ndimage

SPACING = (3.0, 0.98, 0.98)  # (k, j, i) mm: 3 mm slices, 0.98 mm pixels
VOXEL_MM3 = math.prod(SPACING)


def ball_volume(radius_mm: float) -> float:
    return 4.0 / 3.0 * math.pi * radius_mm ** 3


def sphere(radius_mm: float, shape: tuple[int, int, int] = (40, 120, 120),
           spacing: tuple[float, float, float] = SPACING) -> np.ndarray:
    """Voxels whose centre lies within ``radius_mm`` of a centre placed off the grid points."""
    k, j, i = np.ogrid[: shape[0], : shape[1], : shape[2]]
    centre = [(n - 1) / 2 + 0.3 for n in shape]
    z, y, x = ((k - centre[0]) * spacing[0], (j - centre[1]) * spacing[1], (i - centre[2]) * spacing[2])
    return np.asarray(z * z + y * y + x * x <= radius_mm ** 2)


def box(shape: tuple[int, int, int], lo: tuple[int, int, int], hi: tuple[int, int, int]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[lo[0]: hi[0], lo[1]: hi[1], lo[2]: hi[2]] = True
    return mask


def extent(mask: np.ndarray, axis: int) -> int:
    others = tuple(a for a in range(3) if a != axis)
    return int(mask.any(axis=others).sum())


def surface_area_mm2(mask: np.ndarray, spacing: tuple[float, float, float]) -> float:
    """Area of the voxel faces between inside and outside."""
    padded = np.pad(mask, 1)
    areas = (spacing[1] * spacing[2], spacing[0] * spacing[2], spacing[0] * spacing[1])
    return float(sum(np.count_nonzero(np.diff(padded, axis=a)) * areas[a] for a in range(3)))


# --- margins -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("margin_mm", [3.0, 5.0, 10.0])
def test_expand_sphere_matches_analytic_volume(margin_mm: float) -> None:
    grown = expand(sphere(20.0), SPACING, margin_mm)
    assert grown.sum() * VOXEL_MM3 == pytest.approx(ball_volume(20.0 + margin_mm), rel=0.02)


def test_shrink_sphere_matches_analytic_volume() -> None:
    assert shrink(sphere(20.0), SPACING, 5.0).sum() * VOXEL_MM3 == pytest.approx(ball_volume(15.0), rel=0.04)


def test_expand_does_not_modify_input_and_contains_it() -> None:
    mask = sphere(10.0)
    before = mask.copy()
    grown = expand(mask, SPACING, 4.0)
    assert np.array_equal(mask, before)
    assert not (mask & ~grown).any()


def test_per_axis_margins_give_the_right_extents() -> None:
    shape, spacing = (30, 60, 60), (3.0, 1.0, 1.0)
    mask = box(shape, (10, 20, 20), (16, 40, 40))  # 6 slices × 20 × 20
    grown = expand(mask, spacing, (6.0, 2.0, 4.0))
    assert (extent(grown, 0), extent(grown, 1), extent(grown, 2)) == (6 + 2 * 2, 20 + 2 * 2, 20 + 2 * 4)
    flat = expand(mask, spacing, (0.0, 3.0, 3.0))
    assert extent(flat, 0) == 6 and extent(flat, 1) == 26


def test_isotropic_margin_in_mm_not_voxels() -> None:
    shape, spacing = (30, 60, 60), (3.0, 1.0, 1.0)
    grown = expand(box(shape, (10, 20, 20), (16, 40, 40)), spacing, 6.0)
    assert (extent(grown, 0), extent(grown, 1), extent(grown, 2)) == (6 + 2 * 2, 20 + 2 * 6, 20 + 2 * 6)


def test_expand_clips_at_grid_edge() -> None:
    mask = box((10, 20, 20), (0, 0, 0), (2, 3, 3))
    grown = expand(mask, (1.0, 1.0, 1.0), 2.0)
    assert grown.shape == mask.shape and grown[0, 0, 0] and extent(grown, 2) == 5


def test_shrink_box_exact_and_edge_is_background() -> None:
    mask = box((20, 40, 40), (2, 5, 5), (18, 35, 35))
    inner = shrink(mask, (1.0, 1.0, 1.0), 2.0)
    assert (extent(inner, 0), extent(inner, 1)) == (12, 26)
    edge = shrink(box((5, 10, 10), (0, 0, 0), (5, 10, 10)), (1.0, 1.0, 1.0), 1.0)
    assert edge.sum() == 3 * 8 * 8


def test_shrink_is_expand_of_the_complement() -> None:
    rng = np.random.default_rng(0)
    blob = ndimage.gaussian_filter(rng.random((20, 40, 40)), 2) > 0.5
    blob[[0, -1]] = False
    blob[:, [0, -1]] = False
    blob[:, :, [0, -1]] = False
    for margin in (1.0, 2.5, (3.0, 1.0, 2.0)):
        assert np.array_equal(shrink(blob, (3.0, 1.0, 1.0), margin), ~expand(~blob, (3.0, 1.0, 1.0), margin))


def test_spacing_kji_reverses_geometry_spacing() -> None:
    geometry = ImageGeometry((150, 512, 512), (0.98, 0.97, 3.0), (0.0, 0.0, 0.0),
                             ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)))
    assert spacing_kji(geometry) == (3.0, 0.97, 0.98)


def test_ring_volume_matches_analytic_shell() -> None:
    shell = ring(sphere(20.0), SPACING, 5.0, 15.0)
    assert shell.sum() * VOXEL_MM3 == pytest.approx(ball_volume(35.0) - ball_volume(25.0), rel=0.03)


def test_ring_from_surface_excludes_structure() -> None:
    ball = sphere(20.0)
    shell = ring(ball, SPACING, 0.0, 10.0)
    assert not (shell & ball).any()
    assert shell.sum() * VOXEL_MM3 == pytest.approx(ball_volume(30.0) - ball_volume(20.0), rel=0.03)


@pytest.mark.parametrize(("call", "match"), [
    (lambda m: expand(m, SPACING, -1.0), "Margin"),
    (lambda m: expand(m, SPACING, (1.0, 2.0)), "Margin"),
    (lambda m: ring(m, SPACING, 5.0, 5.0), "outer margin 5 mm must exceed"),
])
def test_margin_input_errors(call, match: str) -> None:
    with pytest.raises(InputError, match=match):
        call(sphere(5.0, (10, 20, 20)))


def test_margin_geometry_errors() -> None:
    with pytest.raises(GeometryError, match="3-D"):
        expand(np.ones((4, 4), dtype=bool), SPACING, 1.0)
    with pytest.raises(GeometryError, match="spacing"):
        expand(np.ones((4, 4, 4), dtype=bool), (1.0, 0.0, 1.0), 1.0)


# --- booleans ------------------------------------------------------------------------------------------------

def test_booleans_exact_on_boxes() -> None:
    shape = (10, 20, 20)
    a = box(shape, (0, 0, 0), (10, 10, 10))   # 1000 voxels
    b = box(shape, (5, 5, 5), (10, 15, 15))   # 500 voxels, 5*5*5 = 125 shared
    assert intersect(a, b).sum() == 125
    assert union(a, b).sum() == 1000 + 500 - 125
    assert subtract(a, b).sum() == 1000 - 125
    assert crop_to(b, a).sum() == 125
    assert subtract(a, b, a).sum() == 0


def test_booleans_refuse_different_grids() -> None:
    with pytest.raises(GeometryError, match="different grids"):
        union(np.zeros((2, 2, 2), bool), np.zeros((2, 2, 3), bool))


# --- cleanup -------------------------------------------------------------------------------------------------

def test_remove_islands_by_volume_in_mm3() -> None:
    shape = (20, 60, 60)
    big = box(shape, (2, 2, 2), (6, 12, 12))        # 4*10*10 voxels = 400 * 2.8812 mm³ ≈ 1152 mm³
    medium = box(shape, (10, 30, 30), (12, 36, 36))  # 72 voxels ≈ 207 mm³
    small = box(shape, (15, 50, 50), (16, 53, 53))   # 9 voxels ≈ 26 mm³
    mask = big | medium | small
    kept = remove_islands(mask, SPACING, 100.0)
    assert np.array_equal(kept, big | medium)
    assert np.array_equal(remove_islands(mask, SPACING, 72 * VOXEL_MM3), big | medium)  # at the threshold: kept
    assert np.array_equal(remove_islands(mask, SPACING, 72 * VOXEL_MM3 + 0.01), big)


def test_remove_islands_connectivity() -> None:
    mask = np.zeros((3, 3, 3), bool)
    mask[0, 0, 0] = mask[1, 1, 1] = True  # corner-touching
    assert remove_islands(mask, (1, 1, 1), 1.5).sum() == 2
    assert remove_islands(mask, (1, 1, 1), 1.5, full_connectivity=False).sum() == 0


def test_fill_holes_3d_and_per_slice() -> None:
    shell = box((9, 9, 9), (1, 1, 1), (8, 8, 8)) & ~box((9, 9, 9), (3, 3, 3), (6, 6, 6))
    assert fill_holes(shell).sum() == 7 ** 3
    tube = box((5, 9, 9), (0, 1, 1), (5, 8, 8)) & ~box((5, 9, 9), (0, 3, 3), (5, 6, 6))  # open at both ends
    assert fill_holes(tube).sum() == tube.sum()
    assert fill_holes(tube, per_slice=True).sum() == 5 * 49


def test_smooth_preserves_volume_and_reduces_surface() -> None:
    rng = np.random.default_rng(3)
    ball = sphere(20.0)
    rough = ball ^ (expand(ball, SPACING, 2.0) & ~shrink(ball, SPACING, 2.0) & (rng.random(ball.shape) < 0.3))
    smoothed = smooth(rough, SPACING, 2.0)
    assert smoothed.sum() == pytest.approx(rough.sum(), rel=0.01)
    assert surface_area_mm2(smoothed, SPACING) < 0.8 * surface_area_mm2(rough, SPACING)


def test_cleanup_input_errors() -> None:
    with pytest.raises(InputError, match="sigma"):
        smooth(sphere(5.0, (10, 20, 20)), SPACING, -1.0)
    with pytest.raises(InputError, match="island volume"):
        remove_islands(sphere(5.0, (10, 20, 20)), SPACING, float("nan"))


# --- names ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("root", "margin", "expected"), [
    ("SpinalCord", 5, "SpinalCord_PRV05"), ("OpticNrv_L", 3, "OpticNrv_PRV03_L"),
    ("OpticChiasm", 3, "OpticChiasm_PRV3"), ("Brainstem", 10, "Brainstem_PRV10"),
])
def test_prv_name(root: str, margin: int, expected: str) -> None:
    assert prv_name(root, margin) == expected
    assert describe(expected, RoiType.AVOIDANCE).roi_type is RoiType.AVOIDANCE


def test_prv_name_too_long_or_fractional() -> None:
    with pytest.raises(NamingError, match="longer than 16"):
        prv_name("A_Subclavian_L", 15)
    with pytest.raises(NamingError, match="whole number"):
        prv_name("SpinalCord", 2.5)


def test_ring_and_subtraction_names_and_types() -> None:
    assert ring_name("PTV", 5, 15) == "zRing_PTV_5_15"
    assert ring_name("PTV", 5, 15, with_margins=False) == "zRing_PTV"
    assert ring_name("PTVp12", 5, 15) == "zRingPTVp12_5_15"  # 17 characters with the '_': it goes
    assert describe("zRing_PTV_5_15", RoiType.CONTROL).roi_type is RoiType.CONTROL
    assert subtraction_name("Lungs", "GTV") == "Lungs-GTV"
    assert describe("Body-PTV", RoiType.AVOIDANCE).roi_type is RoiType.AVOIDANCE
    with pytest.raises(NamingError, match="longer than 16"):
        ring_name("Parotid_L", 5, 15)
    with pytest.raises(NamingError, match="longer than 16"):
        subtraction_name("A_Subclavian_L", "PTV")


# --- recipes -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("SpinalCord:5", PrvRecipe("SpinalCord", 5.0)),
    ("PTV:5:15", RingRecipe("PTV", 5.0, 15.0)),
    ("Lungs:GTV", SubtractRecipe("Lungs", "GTV")),
    (" OpticChiasm : 3mm = Chiasm_PRV ", PrvRecipe("OpticChiasm", 3.0, "Chiasm_PRV")),
    ("PTV:0:10", RingRecipe("PTV", 0.0, 10.0)),
])
def test_parse_recipe(text: str, expected: object) -> None:
    assert parse_recipe(text) == expected


@pytest.mark.parametrize(("text", "bad"), [
    ("SpinalCord", "SpinalCord"), ("SpinalCord:", "SpinalCord:"), ("PTV:5:x", "'x'"), ("PTV:-5", "'-5'"),
    ("PTV:15:5", "'5'"), ("A:1:2:3", "A:1:2:3"), ("Cord:5=", "Cord:5="), ("PTV:5:nan", "'nan'"),
])
def test_parse_recipe_errors_name_the_token(text: str, bad: str) -> None:
    with pytest.raises(InputError, match=bad.replace("(", r"\(")) as error:
        parse_recipe(text)
    assert bad in str(error.value)


def test_apply_recipes() -> None:
    shape = (20, 60, 60)
    masks = {"SpinalCord": box(shape, (0, 28, 28), (20, 32, 32)), "PTV": box(shape, (5, 10, 10), (15, 25, 25)),
             "Lungs": box(shape, (2, 5, 5), (18, 55, 55)), "GTV": box(shape, (8, 14, 14), (12, 20, 20))}
    calls: list[float] = []

    def progress(fraction: float, message: str) -> bool:
        calls.append(fraction)
        return False

    result = apply_recipes(masks, SPACING, ["SpinalCord:5", "PTV:5:15", "Lungs:GTV"], progress=progress)
    assert isinstance(result, DerivedResult)
    assert [n.name for n in result.names] == ["SpinalCord_PRV05", "zRing_PTV_5_15", "Lungs-GTV"]
    assert result.roi_types == {"SpinalCord_PRV05": RoiType.AVOIDANCE, "zRing_PTV_5_15": RoiType.CONTROL,
                                "Lungs-GTV": RoiType.ORGAN}
    assert result.masks["Lungs-GTV"].sum() == masks["Lungs"].sum() - masks["GTV"].sum()
    assert result.findings == () and calls[-1] == 1.0


def test_apply_recipes_unknown_source_lists_existing() -> None:
    masks = {"Lungs": np.zeros((2, 2, 2), bool), "PTV": np.zeros((2, 2, 2), bool)}
    with pytest.raises(InputError, match="no structure 'SpinalCord'. Structures present: Lungs, PTV"):
        apply_recipes(masks, SPACING, ["SpinalCord:5"])


def test_apply_recipes_empty_result_and_duplicate() -> None:
    masks = {"GTV": box((4, 8, 8), (1, 1, 1), (3, 3, 3))}
    result = apply_recipes(masks, SPACING, ["GTV:GTV"])
    assert [f.code for f in result.findings] == ["DERIVED_EMPTY"]
    with pytest.raises(InputError, match="already made"):
        apply_recipes(masks, SPACING, ["GTV:5", "GTV:5"])


def test_ten_prvs_on_full_grid_timing() -> None:
    """Ten 5 mm PRVs of organ-sized structures on a 512×512×150 grid (time printed, not asserted)."""
    shape, spacing = (150, 512, 512), SPACING
    k, j, i = np.ogrid[: shape[0], : shape[1], : shape[2]]
    masks = {}
    for n in range(10):
        ck, cj, ci = 40 + 7 * n, 150 + 20 * n, 140 + 25 * n
        radii = (30.0 + 3 * n, 25.0 + 2 * n, 20.0 + 2 * n)  # ellipsoids 40-120 cm³
        masks[f"Organ{n}"] = (((k - ck) * spacing[0] / radii[0]) ** 2 + ((j - cj) * spacing[1] / radii[1]) ** 2
                              + ((i - ci) * spacing[2] / radii[2]) ** 2) <= 1.0
    start = time.perf_counter()
    result = apply_recipes(masks, spacing, [f"Organ{n}:5=zOrgan{n}_PRV05" for n in range(10)])
    elapsed = time.perf_counter() - start
    print(f"\n10 PRVs of 5 mm on 512x512x150: {elapsed:.2f} s")
    assert len(result.masks) == 10


def test_derive_imports_without_slicer() -> None:
    code = ("import sys, OARContourLib.derive;"
            "assert not {'slicer', 'qt', 'ctk'} & set(sys.modules), 'Slicer imported'")
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, env={"PYTHONPATH": str(root)}, timeout=120)
