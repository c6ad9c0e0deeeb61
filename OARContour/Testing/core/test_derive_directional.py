"""Directional margins (OARContourLib.derive.directional) checked in patient (LPS) coordinates.

Grids come from the phantom generator's scan geometry, so every patient position (HFS, FFS, HFP, FFP)
flips the array axes as a real scan would; extents are read back through ``ijk_to_lps``, never from
array indices, so "left" is the patient's left.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from OARContourLib.ct.model import ImageGeometry
from OARContourLib.derive import (
    DirectionalMargin,
    DirectionalPrvRecipe,
    PatientDirection,
    PrvRecipe,
    apply_recipes,
    directional_prv_name,
    expand,
    expand_directional,
    parse_recipe,
    shrink_directional,
    spacing_kji,
)
from OARContourLib.errors import InputError, NamingError
from OARContourLib.phantom import PatientPosition, build_phantom
from OARContourLib.phantom.grid import ScanPlan, make_grid
from OARContourLib.rtstruct.model import RoiType
from scipy import ndimage

POSITIONS = [p.value for p in PatientPosition]
#: Distinct on purpose, and two of them exact multiples of the spacing (4.9 = 5 × 0.98, 6 = 2 × 3).
MARGIN = DirectionalMargin(anterior_mm=4.9, posterior_mm=3.0, left_mm=7.0, right_mm=10.5, superior_mm=10.0,
                           inferior_mm=6.0)


def scan_geometry(position: str, shape: tuple[int, int, int] = (24, 64, 64), pixel_mm: float = 0.98,
                  slice_mm: float = 3.0) -> ImageGeometry:
    plan = ScanPlan(z_top_mm=100.0, slices=shape[0], spacing_mm=slice_mm, table_height_mm=0.0)
    return make_grid(plan, shape[1], shape[2], shape[0], pixel_mm, slice_mm, PatientPosition(position)).geometry


def lps_of(mask: np.ndarray, geometry: ImageGeometry) -> np.ndarray:
    """LPS centres (N × 3, mm) of the mask's voxels."""
    kji = np.argwhere(mask)
    ijk1 = np.column_stack([kji[:, ::-1], np.ones(len(kji))])
    return (geometry.ijk_to_lps() @ ijk1.T).T[:, :3]


def reach_mm(mask: np.ndarray, grown: np.ndarray, geometry: ImageGeometry) -> dict[str, float]:
    """How far ``grown`` reaches beyond ``mask`` toward each patient direction, in mm."""
    before, after = lps_of(mask, geometry), lps_of(grown, geometry)
    return {"left": after[:, 0].max() - before[:, 0].max(), "right": before[:, 0].min() - after[:, 0].min(),
            "posterior": after[:, 1].max() - before[:, 1].max(), "anterior": before[:, 1].min() - after[:, 1].min(),
            "superior": after[:, 2].max() - before[:, 2].max(), "inferior": before[:, 2].min() - after[:, 2].min()}


def gauge_squared(offsets_lps: np.ndarray, margin: DirectionalMargin) -> np.ndarray:
    """Σ (offset / margin toward its direction)² per offset row, straight from the definition in LPS."""
    total = np.zeros(len(offsets_lps))
    for axis, (minus, plus) in enumerate(((margin.right_mm, margin.left_mm), (margin.anterior_mm, margin.posterior_mm),
                                          (margin.inferior_mm, margin.superior_mm))):
        d = offsets_lps[:, axis]
        limit = np.where(d > 0, plus, minus)
        with np.errstate(divide="ignore", invalid="ignore"):
            total += np.where(np.abs(d) < 1e-9, 0.0, np.where(limit > 0, (d / limit) ** 2, np.inf))
    return total


def depth_lps(seeds: np.ndarray, outside: np.ndarray, margin: DirectionalMargin) -> np.ndarray:
    """Gauge distance from each seed centre to the nearest outside centre (offset seed → outside), in LPS."""
    return np.array([math.sqrt(gauge_squared(outside - seed, margin).min()) for seed in seeds])


def expected_reach_mm(mask: np.ndarray, geometry: ImageGeometry, margin: DirectionalMargin) -> dict[str, float]:
    """Reach of a box from the module's rule: ``n`` voxels of ``s`` mm past a face voxel ``q`` while
    ``n·s/m - depth(q)/2 <= 1`` (``q`` is the nearest mask voxel along that line)."""
    seeds, outside = lps_of(mask, geometry), lps_of(~mask, geometry)
    expected = {}
    for direction in PatientDirection:
        axis, sign = direction.axis, direction.sign
        face = seeds[np.isclose(seeds[:, axis] * sign, (seeds[:, axis] * sign).max())]
        m, s = margin.toward(direction), geometry.spacing_mm[axis]  # every position puts i, j, k along ±x, ±y, ±z
        steps = np.floor((1 + depth_lps(face, outside, margin) / 2) * m / s + 1e-9) if m > 0 else np.zeros(1)
        expected[direction.name.lower()] = float(steps.max() * s)
    return expected


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("size", [(1, 1, 1), (3, 6, 5)])
def test_reach_per_patient_direction_is_exact(position: str, size: tuple[int, int, int]) -> None:
    geometry = scan_geometry(position)
    mask = np.zeros(geometry.shape, dtype=bool)
    mask[10: 10 + size[0], 30: 30 + size[1], 28: 28 + size[2]] = True
    grown = expand_directional(mask, spacing_kji(geometry), MARGIN, geometry.ijk_to_lps())
    assert reach_mm(mask, grown, geometry) == pytest.approx(expected_reach_mm(mask, geometry, MARGIN), abs=1e-6)
    assert not (mask & ~grown).any()


@pytest.mark.parametrize("position", POSITIONS)
def test_matches_the_definition_voxel_by_voxel(position: str) -> None:
    geometry = scan_geometry(position, shape=(10, 30, 30))
    rng = np.random.default_rng(5)
    mask = np.zeros(geometry.shape, dtype=bool)
    mask[rng.integers(2, 8, 6), rng.integers(5, 25, 6), rng.integers(5, 25, 6)] = True
    margin = DirectionalMargin(anterior_mm=4.0, posterior_mm=2.0, left_mm=6.0, right_mm=0.0, superior_mm=7.0,
                               inferior_mm=3.5)
    grown = expand_directional(mask, spacing_kji(geometry), margin, geometry.ijk_to_lps())
    centres, seeds = lps_of(np.ones(geometry.shape, bool), geometry), lps_of(mask, geometry)
    depth = depth_lps(seeds, lps_of(~mask, geometry), margin)
    gauge = np.sqrt(np.stack([gauge_squared(centres - seed, margin) for seed in seeds]))  # seeds × centres
    tied = gauge <= gauge.min(axis=0) + 1e-9  # the nearest seed(s) of each centre
    passes = gauge - depth[:, None] / 2 <= 1.0 + 1e-9
    some, every = (tied & passes).any(axis=0), (~tied | passes).all(axis=0)
    flat = grown.ravel()  # argwhere of a full mask is C order, like ravel
    assert not (every & ~flat).any() and not (flat & ~some).any()  # a tie may go either way, nothing else
    assert (some != every).sum() <= 0.01 * flat.sum()
    assert (flat & ~(gauge <= 1.0 + 1e-9).any(axis=0)).any()  # the surface allowance adds centres


def test_point_grows_into_the_asymmetric_ellipsoid_volume() -> None:
    """Eight octants of ellipsoids: (π/6)·Σ a·b·c over the octants = (π/6)(A+P)(L+R)(S+I), each half-axis
    scaled by 1 + depth/2, the depth of a lone voxel being its shortest one-voxel step (0.98 mm left: 0.98/25)."""
    geometry = scan_geometry("HFS", shape=(40, 100, 100))
    margin = DirectionalMargin(anterior_mm=20.0, posterior_mm=12.0, left_mm=25.0, right_mm=15.0, superior_mm=30.0,
                               inferior_mm=18.0)
    point = np.zeros(geometry.shape, dtype=bool)
    point[20, 50, 50] = True
    grown = expand_directional(point, spacing_kji(geometry), margin, geometry.ijk_to_lps())
    analytic = math.pi / 6 * (20 + 12) * (25 + 15) * (30 + 18) * (1 + 0.98 / 25 / 2) ** 3
    assert grown.sum() * math.prod(spacing_kji(geometry)) == pytest.approx(analytic, rel=0.02)


def lumpy_blob(shape: tuple[int, int, int], seed: int = 0) -> np.ndarray:
    """An ellipsoid with random lumps and dents, kept 4 slices and 14 pixels from the grid edge."""
    k, j, i = np.ogrid[: shape[0], : shape[1], : shape[2]]
    centre = [n / 2 for n in shape]
    ellipsoid = ((k - centre[0]) / (shape[0] / 2 - 6)) ** 2 + ((j - centre[1]) / (shape[1] / 2 - 20)) ** 2 \
        + ((i - centre[2]) / (shape[2] / 2 - 20)) ** 2 <= 1
    lumps = ndimage.gaussian_filter(np.random.default_rng(seed).random(shape), (1, 3, 3)) > 0.5
    inner = np.zeros(shape, dtype=bool)
    inner[4:-4, 14:-14, 14:-14] = True
    return (ellipsoid ^ lumps) & inner


@pytest.mark.parametrize("position", ["HFS", "FFP"])
def test_shrink_is_the_complement_of_expanding_the_complement_mirrored(position: str) -> None:
    geometry = scan_geometry(position, shape=(30, 90, 90))
    spacing, matrix = spacing_kji(geometry), geometry.ijk_to_lps()
    blob = lumpy_blob(geometry.shape)
    shrunk = shrink_directional(blob, spacing, MARGIN, matrix)
    assert np.array_equal(shrunk, ~expand_directional(~blob, spacing, MARGIN.mirrored(), matrix))
    assert not (shrunk & ~blob).any() and shrunk.any()
    # Opening stays inside, closing covers, up to the odd voxel: measured from the estimated surface (as
    # margins.expand/shrink are) they are not exact; shrink mirrored the wrong way misses ~20 % on closing.
    opened = expand_directional(shrunk, spacing, MARGIN, matrix)
    closed = shrink_directional(expand_directional(blob, spacing, MARGIN, matrix), spacing, MARGIN, matrix)
    assert (opened & ~blob).sum() <= 0.005 * blob.sum() and (blob & ~closed).sum() <= 0.005 * blob.sum()


@pytest.mark.parametrize("position", POSITIONS)
def test_shrink_moves_only_the_named_surface(position: str) -> None:
    geometry = scan_geometry(position)
    mask = np.zeros(geometry.shape, dtype=bool)
    mask[4:20, 10:50, 12:52] = True
    margin = DirectionalMargin(0.0, 6.0, 0.0, 0.0, 0.0, 0.0)  # posterior surface moves 6 mm anterior
    shrunk = shrink_directional(mask, spacing_kji(geometry), margin, geometry.ijk_to_lps())
    before, after = lps_of(mask, geometry), lps_of(shrunk, geometry)
    assert before[:, 1].max() - after[:, 1].max() == pytest.approx(6 * 0.98)
    for axis, side in ((0, "min"), (0, "max"), (1, "min"), (2, "min"), (2, "max")):
        assert getattr(after[:, axis], side)() == pytest.approx(getattr(before[:, axis], side)())


def test_shrink_treats_outside_the_grid_as_background() -> None:
    geometry = scan_geometry("HFS", shape=(6, 20, 20))
    full = np.ones(geometry.shape, dtype=bool)
    shrunk = shrink_directional(full, spacing_kji(geometry), DirectionalMargin(0, 0, 1.0, 0, 0, 0),
                                geometry.ijk_to_lps())
    assert shrunk.sum() == full.sum() - 6 * 20  # one column lost on the patient's left (+x = +i in HFS)
    assert not shrunk[:, :, -1].any()


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2 * float((a & b).sum()) / float(a.sum() + b.sum())


@pytest.fixture(scope="module")
def thorax_phantom():
    return build_phantom(seed=7)  # 512 × 512 × 120, 0.977 × 0.977 × 3 mm


def ellipsoid(geometry: ImageGeometry, half_axes_mm: tuple[float, float, float]) -> np.ndarray:
    """An ellipsoid with (k, j, i) half-axes in mm, off the voxel grid's symmetry."""
    spacing = spacing_kji(geometry)
    k, j, i = np.ogrid[: geometry.shape[0], : geometry.shape[1], : geometry.shape[2]]
    centre = [n / 2 + 0.3 for n in geometry.shape]
    return sum(((x - c) * s / a) ** 2 for x, c, s, a in zip((k, j, i), centre, spacing, half_axes_mm)) <= 1


@pytest.mark.parametrize("margin_mm", [3.0, 5.0, 10.0, 15.0])
def test_equal_margins_match_the_isotropic_expand(margin_mm: float, thorax_phantom) -> None:
    """Six equal margins measure from the same surface as :func:`expand`: ellipsoids of 20-60 mm and two organs."""
    grid = scan_geometry("HFS", shape=(60, 150, 150))
    shapes = [(grid, ellipsoid(grid, axes)) for axes in ((10, 10, 10), (20, 15, 12), (30, 20, 25), (15, 30, 20))]
    shapes += [(thorax_phantom.geometry, thorax_phantom.masks[name]) for name in ("SpinalCord", "Heart")]
    for geometry, mask in shapes:
        spacing = spacing_kji(geometry)
        isotropic = expand(mask, spacing, margin_mm)
        directional = expand_directional(mask, spacing, DirectionalMargin.uniform(margin_mm), geometry.ijk_to_lps())
        assert dice(directional, isotropic) >= 0.99
        assert directional.sum() == pytest.approx(isotropic.sum(), rel=0.01)


@pytest.mark.parametrize("position", ["HFS", "FFP"])
def test_a_smaller_posterior_margin_moves_only_the_posterior_side(position: str) -> None:
    """``CTV:7`` (isotropic path) against ``CTV:7,post=6.9`` (directional path)."""
    geometry = scan_geometry(position, shape=(40, 110, 110))
    spacing, matrix = spacing_kji(geometry), geometry.ijk_to_lps()
    ctv = ellipsoid(geometry, (25.0, 18.0, 22.0))
    result = apply_recipes({"CTV": ctv}, spacing, ["CTV:7", "CTV:7,post=6.9=PTV_P"], ijk_to_lps=matrix)
    isotropic, directional = result.masks["CTV_PRV07"], result.masks["PTV_P"]
    changed = lps_of(isotropic ^ directional, geometry)
    assert len(changed) > 0 and not (directional & ~isotropic).any()
    assert (changed[:, 1] > lps_of(ctv, geometry)[:, 1].mean()).all()  # +y is posterior


def test_uniform_directional_margin_is_the_isotropic_recipe() -> None:
    assert parse_recipe("CTV:7,post=7") == PrvRecipe("CTV", 7.0)
    assert parse_recipe("CTV:A=7,P=7,L=7,R=7,S=7,I=7=PTV") == PrvRecipe("CTV", 7.0, "PTV")


@pytest.mark.parametrize("degrees, accepted", [(0.05, True), (5.0, False)])
def test_oblique_orientation(degrees: float, accepted: bool) -> None:
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    matrix = np.eye(4)
    matrix[:3, :3] = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]) @ np.diag([0.98, 0.98, 3.0])
    mask = np.zeros((10, 20, 20), dtype=bool)
    mask[5, 10, 10] = True
    if accepted:
        assert expand_directional(mask, (3.0, 0.98, 0.98), MARGIN, matrix).sum() > 1
    else:
        with pytest.raises(InputError, match=r"5\.00° away from the nearest patient axis"):
            expand_directional(mask, (3.0, 0.98, 0.98), MARGIN, matrix)


def test_negative_margin_is_refused() -> None:
    with pytest.raises(InputError, match="posterior margin -1"):
        DirectionalMargin(1.0, -1.0, 1.0, 1.0, 1.0, 1.0)


# --- recipes and names -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("CTV:7,post=5", DirectionalPrvRecipe("CTV", DirectionalMargin(7, 5, 7, 7, 7, 7))),
    ("CTV:7,post=5=PTV_High", DirectionalPrvRecipe("CTV", DirectionalMargin(7, 5, 7, 7, 7, 7), "PTV_High")),
    ("CTV:ant=5,post=3,left=7,right=7,sup=10,inf=10", DirectionalPrvRecipe("CTV", DirectionalMargin(5, 3, 7, 7, 10, 10))),
    ("CTV: a=5, P=3mm, L=7, r=7, S=10, Inferior=10 ", DirectionalPrvRecipe("CTV", DirectionalMargin(5, 3, 7, 7, 10, 10))),
    ("Prostate:10,posterior=6", DirectionalPrvRecipe("Prostate", DirectionalMargin(10, 6, 10, 10, 10, 10))),
])
def test_parse_directional_recipe(text: str, expected: object) -> None:
    assert parse_recipe(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("CTV:post=5", "no margin toward anterior, left, right, superior, inferior and no default margin"),
    ("CTV:7,back=5", "unknown direction 'back'"),
    ("CTV:7,P=5,post=3", "direction given twice 'post'"),
    ("CTV:7,8", "two default margins"),
    ("CTV:7,post=-1", "margin '-1' must be a number"),
    ("CTV:7,post=x", "margin 'x' is not a number"),
    ("CTV:7,post=5:10", "directional margins are for PRVs only"),
    ("CTV:7,post=5=", "nothing after '='"),
])
def test_directional_recipe_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as error:
        parse_recipe(text)
    assert "CTV:7,post=5" in error.value.hint or "=Name" in error.value.hint or "PTV:5:15" in error.value.hint


@pytest.mark.parametrize(("root", "expected"), [
    ("CTV", ("PTV", RoiType.PTV)), ("CTVp1_High", ("PTVp1_High", RoiType.PTV)), ("ITV", ("PTV", RoiType.PTV)),
    ("CTV_Prostate_High", ("PTVProstate_High", RoiType.PTV)),  # 17 characters: the first '_' goes
    ("SpinalCord", ("SpinalCord_PRV", RoiType.AVOIDANCE)), ("OpticNrv_L", ("OpticNrv_PRV_L", RoiType.AVOIDANCE)),
    ("CTVfoo", ("CTVfoo_PRV", RoiType.AVOIDANCE)), ("PTV", ("PTV_PRV", RoiType.AVOIDANCE)),
])
def test_directional_prv_name(root: str, expected: tuple[str, RoiType]) -> None:
    assert directional_prv_name(root) == expected


def test_directional_prv_name_too_long() -> None:
    with pytest.raises(NamingError, match="longer than 16"):
        directional_prv_name("A_Subclavian_L")


def test_apply_directional_recipes_on_a_feet_first_grid() -> None:
    geometry = scan_geometry("FFS")
    spacing, matrix = spacing_kji(geometry), geometry.ijk_to_lps()
    ctv, cord = np.zeros(geometry.shape, bool), np.zeros(geometry.shape, bool)
    ctv[8:14, 20:34, 20:34] = True
    cord[:, 45:49, 30:34] = True
    recipes = ["CTV:7,post=5", "SpinalCord:3,sup=0,inf=0", "SpinalCord:5"]
    result = apply_recipes({"CTV": ctv, "SpinalCord": cord}, spacing, recipes, ijk_to_lps=matrix)
    assert [n.name for n in result.names] == ["PTV", "SpinalCord_PRV", "SpinalCord_PRV05"]
    assert result.roi_types["PTV"] is RoiType.PTV and result.roi_types["SpinalCord_PRV"] is RoiType.AVOIDANCE
    assert np.array_equal(result.masks["PTV"], expand_directional(ctv, spacing, DirectionalMargin(7, 5, 7, 7, 7, 7),
                                                                  matrix))
    assert np.array_equal(result.masks["SpinalCord_PRV05"], expand(cord, spacing, 5.0))  # isotropic path as before
    assert reach_mm(ctv, result.masks["PTV"], geometry)["posterior"] == pytest.approx(5 * 0.98)
    assert result.findings == ()
    with pytest.raises(InputError, match="need the image orientation"):
        apply_recipes({"CTV": ctv}, spacing, ["CTV:7,post=5"])


def test_phantom_cord_grows_posterior_only_in_every_position() -> None:
    """Real anatomy: the phantom's SpinalCord, 16 mm posterior only, in LPS for HFS and FFP."""
    for position in ("HFS", "FFP"):
        volume = build_phantom(rows=64, columns=64, slices=16, pixel_spacing_mm=8.0, slice_spacing_mm=10.0,
                               patient_position=position, seed=7)
        cord = volume.masks["SpinalCord"]
        grown = expand_directional(cord, spacing_kji(volume.geometry), DirectionalMargin(0, 16, 0, 0, 0, 0),
                                   volume.geometry.ijk_to_lps())
        reach = reach_mm(cord, grown, volume.geometry)
        assert reach == pytest.approx({"left": 0, "right": 0, "posterior": 16, "anterior": 0, "superior": 0,
                                       "inferior": 0}), position


def timed(call) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def test_timing_prostate_ptv_and_body_on_512x512x100() -> None:
    """15 mm on a prostate-PTV-sized structure must stay well under a second; Body is printed."""
    shape, spacing, matrix = (100, 512, 512), (3.0, 0.98, 0.98), np.eye(4)
    k, j, i = np.ogrid[: shape[0], : shape[1], : shape[2]]
    ptv = ((k - 50) * 3 / 30) ** 2 + ((j - 256) * 0.98 / 30) ** 2 + ((i - 256) * 0.98 / 35) ** 2 <= 1  # ≈ 130 cm³
    margin = DirectionalMargin(15, 10, 15, 15, 15, 15)
    ptv_s, grown = timed(lambda: expand_directional(ptv, spacing, margin, matrix))
    body = np.zeros(shape, dtype=bool)
    body[5:-5] = (((j - 256) * 0.98 / 170) ** 2 + ((i - 256) * 0.98 / 230) ** 2 <= 1)[0]
    body_s, _ = timed(lambda: expand_directional(body, spacing, margin, matrix))
    shrink_s, _ = timed(lambda: shrink_directional(body, spacing, margin, matrix))
    print(f"\n15 mm directional on 512x512x100: prostate PTV {ptv.sum() * 2.88e-3:.0f} cm³ {ptv_s:.3f} s, "
          f"Body {body.sum() * 2.88e-6:.1f} L expand {body_s:.2f} s, shrink {shrink_s:.2f} s")
    assert grown.sum() > ptv.sum()
    assert ptv_s < 1.0
