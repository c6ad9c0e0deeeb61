"""Voxel-boundary contours: exact round trips, loop shape, hole assignment, keyholes, simplification."""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
import pytest
from OARContourLib.errors import GeometryError
from OARContourLib.rtstruct import corners
from OARContourLib.rtstruct.contours import HoleEncoding, LoopSet, mask_to_polygons, trace_loops
from OARContourLib.rtstruct.rasterize import rasterize_packed, rasterize_polygons
from OARContourLib.rtstruct.simplify import redundant_points, simplify_polygon
from scipy import ndimage

FOUR_CONNECTED = ndimage.generate_binary_structure(2, 1)


# --- masks ---------------------------------------------------------------------------------------


def _ring(size: int = 12, wall: int = 3) -> np.ndarray:
    mask = np.zeros((1, size + 4, size + 4), dtype=bool)
    mask[0, 2:2 + size, 2:2 + size] = True
    mask[0, 2 + wall:2 + size - wall, 2 + wall:2 + size - wall] = False
    return mask


def _nested_rings() -> np.ndarray:
    """Island in a hole in an island in a hole in an island, plus a separate blob; then rotated."""
    mask = np.zeros((2, 30, 34), dtype=bool)
    for depth, (lo, hi) in enumerate([(1, 29), (4, 26), (7, 23), (10, 20), (13, 17)]):
        mask[0, lo:hi, lo:hi] = depth % 2 == 0
    mask[0, 5:9, 30:33] = True
    mask[1] = mask[0, ::-1, ::-1]
    return mask


def _diagonals() -> np.ndarray:
    mask = np.zeros((4, 9, 9), dtype=bool)
    # Two components touching at one corner, both ways round.
    mask[0, 2, 2] = mask[0, 3, 3] = True
    mask[1, 2, 3] = mask[1, 3, 2] = True
    # One component whose two pixels (2, 5) and (3, 6) touch at a corner: its hole meets the
    # outside there.
    mask[2, 1:6, 1:6] = True
    mask[2, 2:5, 2:5] = False
    mask[2, 3, 5] = False
    mask[2, 3:5, 6] = True
    # A chain of background pockets touching diagonally: notch (1, 1), pocket (2, 2), hole (3:5, 3:5).
    mask[3, 1:7, 1:7] = True
    mask[3, 3:5, 3:5] = False
    mask[3, 2, 2] = mask[3, 1, 1] = False
    return mask


def _checkerboard(n: int = 9) -> np.ndarray:
    checker = (np.add.outer(np.arange(n), np.arange(n)) % 2 == 0)[None]
    inverse = ~checker
    inverse[0, 0, :] = inverse[0, -1, :] = inverse[0, :, 0] = inverse[0, :, -1] = True
    return np.concatenate([checker, inverse, checker[:, ::-1]])


def _touching_borders() -> np.ndarray:
    mask = np.zeros((3, 10, 12), dtype=bool)
    mask[0, 0, :] = mask[0, :, 0] = mask[0, -1, 5:] = mask[0, 3:, -1] = True
    mask[1, :5, :5] = mask[1, 5:, 7:] = True
    mask[2] = True
    mask[2, 4:6, 4:6] = False
    return mask


def _smooth_blobs(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    field = ndimage.gaussian_filter(rng.normal(size=(6, 40, 48)), sigma=(0.8, 3, 3))
    return field > 0.02


def _noise(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((3, 17, 23)) < 0.5


def _thin_lines() -> np.ndarray:
    mask = np.zeros((1, 15, 15), dtype=bool)
    mask[0, 1, 1:14] = mask[0, 1:14, 13] = mask[0, 13, 1:14] = mask[0, 3:14, 1] = True
    mask[0, 3, 1:11] = mask[0, 3:11, 11] = mask[0, 11, 3:12] = mask[0, 5:12, 3] = True
    mask[0, 7, 7] = True
    return mask


CASES = {
    "single_voxel": np.pad(np.ones((1, 1, 1), dtype=bool), ((0, 0), (3, 4), (5, 2))),
    "ring": _ring(),
    "nested_rings": _nested_rings(),
    "islands": np.kron(np.eye(4, dtype=bool), np.ones((3, 4), dtype=bool))[None] | np.eye(12, 16, 3, dtype=bool)[None],
    "diagonals": _diagonals(),
    "checkerboard": _checkerboard(),
    "touching_borders": _touching_borders(),
    "full_slices": np.ones((2, 5, 7), dtype=bool),
    "thin_lines": _thin_lines(),
    "smooth_blobs": _smooth_blobs(seed=3),
    "noise_a": _noise(seed=11),
    "noise_b": _noise(seed=12),
}


# --- helpers -------------------------------------------------------------------------------------


def shoelace(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def unit_segments(polygon: np.ndarray) -> Counter:
    """Directed unit-length grid segments of an axis-aligned polygon, with multiplicity."""
    segments: Counter = Counter()
    for a, b in zip(polygon, np.roll(polygon, -1, axis=0)):
        assert (a == b).any(), f"edge {a}->{b} is not axis-aligned"
        step = np.sign(b - a)
        for s in range(int(np.abs(b - a).sum())):
            segments[(tuple(a + s * step), tuple(a + (s + 1) * step))] += 1
    return segments


def four_connected_components(mask_2d: np.ndarray) -> tuple[np.ndarray, int]:
    return ndimage.label(mask_2d, structure=FOUR_CONNECTED)


# --- exact round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", list(HoleEncoding))
@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip_is_exact(name, encoding):
    mask = CASES[name]
    loops = trace_loops(mask, encoding)
    assert np.array_equal(rasterize_polygons(loops.per_slice(), mask.shape), mask)
    assert np.array_equal(rasterize_packed(loops.points_ij, loops.offsets, loops.slice_k, mask.shape), mask)


@pytest.mark.parametrize("encoding", list(HoleEncoding))
def test_round_trip_across_slabs(monkeypatch, encoding):
    # One slice per slab: the slab seams must not change anything.
    mask = _smooth_blobs(seed=5)
    reference = trace_loops(mask, encoding)
    monkeypatch.setattr(corners, "_SLAB_BYTES", 1)
    sliced = trace_loops(mask, encoding)
    assert np.array_equal(sliced.points_ij, reference.points_ij)
    assert np.array_equal(rasterize_polygons(sliced.per_slice(), mask.shape), mask)


def test_single_voxel_is_the_documented_square():
    mask = np.zeros((1, 8, 9), dtype=bool)
    mask[0, 3, 5] = True
    (polygons,) = mask_to_polygons(mask)
    assert polygons.k == 0 and polygons.holes == ()
    assert polygons.outers[0].tolist() == [[4.5, 2.5], [5.5, 2.5], [5.5, 3.5], [4.5, 3.5]]


def test_empty_mask_has_no_loops():
    loops = trace_loops(np.zeros((3, 4, 5), dtype=bool))
    assert loops.n_loops == 0 and loops.points_ij.shape == (0, 2) and loops.per_slice() == {}
    assert mask_to_polygons(np.zeros((3, 4, 5), dtype=bool)) == []


def test_origin_offsets_a_cropped_block():
    mask = CASES["nested_rings"]
    full = np.zeros((5, 40, 50), dtype=bool)
    full[2:4, 6:36, 9:43] = mask
    cropped = trace_loops(mask, HoleEncoding.KEYHOLE, origin_kji=(2, 6, 9))
    whole = trace_loops(full, HoleEncoding.KEYHOLE)
    assert np.array_equal(cropped.points_ij, whole.points_ij)
    assert np.array_equal(cropped.slice_k, whole.slice_k)


def test_non_bool_masks_use_nonzero_voxels():
    mask = CASES["ring"]
    as_labels = np.where(mask, 7, 0).astype(np.uint8)
    assert np.array_equal(trace_loops(as_labels).points_ij, trace_loops(mask).points_ij)


def test_a_2d_mask_is_refused_with_a_hint():
    with pytest.raises(GeometryError, match=r"shape \(4, 4\).*add a leading axis"):
        trace_loops(np.ones((4, 4), dtype=bool))


def test_hole_encoding_accepts_its_string_values():
    assert trace_loops(CASES["ring"], "keyhole").n_loops == 1
    with pytest.raises(ValueError, match="'pinhole' is not a valid HoleEncoding"):
        trace_loops(CASES["ring"], "pinhole")


# --- loop shape ----------------------------------------------------------------------------------


def _turn_products(polygon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d_in = polygon - np.roll(polygon, 1, axis=0)
    d_out = np.roll(polygon, -1, axis=0) - polygon
    return d_in, d_in[:, 0] * d_out[:, 1] - d_in[:, 1] * d_out[:, 0]


@pytest.mark.parametrize("encoding", list(HoleEncoding))
@pytest.mark.parametrize("name", sorted(CASES))
def test_loops_hold_corners_only(name, encoding):
    for polygon in trace_loops(CASES[name], encoding).loops():
        d_in, cross = _turn_products(polygon)
        assert len(polygon) >= 4
        assert not (d_in == 0).all(axis=1).any(), "repeated consecutive point"
        assert not (cross == 0).any(), "collinear triple"
        assert np.all(np.abs(polygon - np.round(polygon)) == 0.5), "points off the voxel corners"


@pytest.mark.parametrize("name", sorted(CASES))
def test_nested_loops_are_simple_and_oriented(name):
    loops = trace_loops(CASES[name], HoleEncoding.NESTED)
    for polygon, is_hole in zip(loops.loops(), loops.is_hole):
        assert len({tuple(p) for p in polygon}) == len(polygon), "a loop visits a corner twice"
        assert (shoelace(polygon) < 0) == is_hole
        # Each loop starts at its top-left corner: smallest j, then smallest i.
        assert tuple(polygon[0][::-1]) == min(tuple(p[::-1]) for p in polygon)


@pytest.mark.parametrize("name", sorted(CASES))
def test_one_outer_loop_per_4_connected_component(name):
    mask = CASES[name]
    nested = trace_loops(mask, HoleEncoding.NESTED)
    keyhole = trace_loops(mask, HoleEncoding.KEYHOLE)
    for k in range(mask.shape[0]):
        _, n_components = four_connected_components(mask[k])
        assert int(np.sum((nested.slice_k == k) & ~nested.is_hole)) == n_components
        assert int(np.sum(keyhole.slice_k == k)) == n_components


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_hole_belongs_to_the_outer_loop_of_its_component(name):
    mask = CASES[name]
    loops = trace_loops(mask, HoleEncoding.NESTED)
    for m in np.flatnonzero(loops.is_hole):
        k, parent = loops.slice_k[m], loops.parent[m]
        assert not loops.is_hole[parent] and loops.slice_k[parent] == k
        labels, _ = four_connected_components(mask[k])
        # The pixel left of a loop's first edge is inside it (foreground on the left of travel).
        hole_pixel = _pixel_left_of_first_edge(loops.loop(m))
        outer_pixel = _pixel_left_of_first_edge(loops.loop(parent))
        assert labels[hole_pixel] == labels[outer_pixel] != 0


def _pixel_left_of_first_edge(polygon: np.ndarray) -> tuple[int, int]:
    a, b = polygon[0], polygon[1]
    direction = np.sign(b - a)
    left = np.array([-direction[1], direction[0]])
    centre = a + 0.5 * direction + 0.5 * left
    return int(round(centre[1])), int(round(centre[0]))


def test_ring_orientation_and_hole_assignment():
    (polygons,) = mask_to_polygons(_ring(size=12, wall=3))
    assert len(polygons.outers) == 1 and len(polygons.holes) == 1 and polygons.hole_parent == (0,)
    assert shoelace(polygons.outers[0]) == 12 * 12
    assert shoelace(polygons.holes[0]) == -(6 * 6)
    assert polygons.outers[0].tolist() == [[1.5, 1.5], [13.5, 1.5], [13.5, 13.5], [1.5, 13.5]]
    assert polygons.holes[0].tolist() == [[4.5, 4.5], [4.5, 10.5], [10.5, 10.5], [10.5, 4.5]]
    assert [len(c) for c in polygons.nested()] == [4, 4]


def test_island_in_hole_in_island_get_their_own_parents():
    polygons = mask_to_polygons(_nested_rings())[0]
    areas = [shoelace(p) for p in polygons.outers]
    hole_areas = [shoelace(p) for p in polygons.holes]
    # Outer squares of sides 28, 16, 4 and the separate blob; holes of sides 22 and 10.
    assert sorted(areas) == [12, 4 * 4, 16 * 16, 28 * 28]
    assert sorted(hole_areas) == [-(22 * 22), -(10 * 10)]
    parent_area = {shoelace(h): areas[p] for h, p in zip(polygons.holes, polygons.hole_parent)}
    assert parent_area == {-(22 * 22): 28 * 28, -(10 * 10): 16 * 16}


def test_diagonal_pixels_are_separate_loops():
    (polygons,) = mask_to_polygons(_diagonals()[:1])
    assert [p.tolist() for p in polygons.outers] == [
        [[1.5, 1.5], [2.5, 1.5], [2.5, 2.5], [1.5, 2.5]],
        [[2.5, 2.5], [3.5, 2.5], [3.5, 3.5], [2.5, 3.5]],
    ]


def test_pinched_component_splits_into_outer_and_hole_at_the_saddle():
    (polygons,) = mask_to_polygons(_diagonals()[2:3])
    assert len(polygons.outers) == 1 and len(polygons.holes) == 1
    outer, hole = polygons.outers[0], polygons.holes[0]
    assert shoelace(outer) == 5 * 5 + 2 and shoelace(hole) == -(9 + 1)
    # Both loops pass once through the shared corner of pixels (2, 5) and (3, 6).
    assert [5.5, 2.5] in outer.tolist() and [5.5, 2.5] in hole.tolist()


def test_chained_diagonal_pockets_are_separate_holes():
    (polygons,) = mask_to_polygons(_diagonals()[3:4])
    assert len(polygons.outers) == 1 and polygons.hole_parent == (0, 0)
    assert sorted(shoelace(h) for h in polygons.holes) == [-4, -1]
    assert shoelace(polygons.outers[0]) == 36 - 1


# --- keyhole -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_keyhole_cuts_are_zero_width_and_inside_the_foreground(name):
    mask = CASES[name]
    loops = trace_loops(mask, HoleEncoding.KEYHOLE)
    for k, polygon in zip(loops.slice_k, loops.loops()):
        segments = unit_segments(polygon)
        for (a, b), count in segments.items():
            back = segments.get((b, a), 0)
            assert count == 1, "a boundary or cut segment is traversed twice the same way"
            if back:
                # A cut: horizontal on a grid line, with foreground pixels above and below it.
                assert a[1] == b[1]
                row, column = int(a[1] + 0.5), int(min(a[0], b[0]) + 0.5)
                assert mask[k, row - 1, column] and mask[k, row, column]
            else:
                # A boundary edge: foreground on its left only.
                direction = np.subtract(b, a)
                left = np.add(np.add(a, b) / 2, 0.5 * np.array([-direction[1], direction[0]]))
                right = np.add(np.add(a, b) / 2, -0.5 * np.array([-direction[1], direction[0]]))
                assert _pixel(mask[k], left) and not _pixel(mask[k], right)


def _pixel(mask_2d: np.ndarray, centre: np.ndarray) -> bool:
    i, j = int(round(centre[0])), int(round(centre[1]))
    return bool(0 <= j < mask_2d.shape[0] and 0 <= i < mask_2d.shape[1] and mask_2d[j, i])


def test_keyhole_ring_is_one_polygon_through_its_cut():
    (polygon,) = trace_loops(_ring(size=12, wall=3), HoleEncoding.KEYHOLE).loops()
    assert polygon.tolist() == [[1.5, 1.5], [13.5, 1.5], [13.5, 13.5], [1.5, 13.5], [1.5, 4.5], [4.5, 4.5],
                                [4.5, 10.5], [10.5, 10.5], [10.5, 4.5], [1.5, 4.5]]
    assert shoelace(polygon) == 12 * 12 - 6 * 6


def test_keyhole_many_holes_in_one_component():
    mask = np.ones((2, 101, 101), dtype=bool)
    mask[:, 1:-1:2, 1:-1:2] = False         # 2500 one-voxel holes per slice, bridged in chains
    mask[1, 50:60, 50:60] = False
    loops = trace_loops(mask, HoleEncoding.KEYHOLE)
    assert loops.n_loops == 2
    assert np.array_equal(rasterize_polygons(loops.per_slice(), mask.shape), mask)


# --- simplification ------------------------------------------------------------------------------


def _disc(radius: float, size: int) -> np.ndarray:
    j, i = np.ogrid[:size, :size]
    return (((i - size / 2) ** 2 + (j - size / 2) ** 2) < radius**2)[None]


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2 * float((a & b).sum()) / float(a.sum() + b.sum())


@pytest.mark.parametrize("encoding", list(HoleEncoding))
def test_simplification_keeps_a_large_disc(encoding):
    mask = _disc(radius=100, size=220)
    mask[0, 100:120, 60:80] = False           # and a hole, to exercise keyhole cuts
    exact = trace_loops(mask, encoding)
    simple = trace_loops(mask, encoding, simplify_tolerance=1.0)
    assert len(simple.points_ij) < len(exact.points_ij) / 4
    assert simple.n_loops == exact.n_loops
    assert dice(rasterize_polygons(simple.per_slice(), mask.shape), mask) >= 0.97


def test_simplification_never_moves_keyhole_cuts():
    mask = _disc(radius=60, size=140)
    mask[0, 60:80, 60:80] = False
    (polygon,) = trace_loops(mask, HoleEncoding.KEYHOLE, simplify_tolerance=1.0).loops()
    result = rasterize_polygons({0: [polygon]}, mask.shape)[0]
    assert not result[60:80, 60:80].any(), "the hole was lost"
    assert result[55:60, 60:80].all() and result[80:85, 60:80].all()


def test_redundant_points_are_judged_after_repeats_are_gone():
    # (1, 0) is straight on between (0, 0) and (2, 0) only once its repeat is ignored.
    points = np.array([[0, 0], [1, 0], [1, 0], [2, 0], [2, 2], [0, 2]], dtype=float)
    assert redundant_points(points, np.array([0, 6])).tolist() == [False, True, True, False, False, False]
    pinned = np.array([False, True, False, False, False, False])
    assert redundant_points(points, np.array([0, 6]), pinned).tolist() == [False, False, True, False, False, False]


def test_simplify_polygon_drops_near_collinear_points():
    square = np.array([[0, 0], [1, 0.01], [2, 0], [2, 2], [0, 2]], dtype=float)
    assert simplify_polygon(square, 0.1).tolist() == [[0, 0], [2, 0], [2, 2], [0, 2]]
    assert simplify_polygon(square, 0.001).tolist() == square.tolist()


def test_simplification_keeps_a_loop_that_would_vanish():
    mask = np.zeros((1, 3, 3), dtype=bool)
    mask[0, 1, 1] = True
    simple = trace_loops(mask, simplify_tolerance=5.0)
    assert simple.loop(0).tolist() == trace_loops(mask).loop(0).tolist()


def test_negative_tolerance_is_refused():
    with pytest.raises(GeometryError, match="tolerance -1.0 is not a non-negative number"):
        trace_loops(CASES["ring"], simplify_tolerance=-1.0)


# --- speed (printed, not asserted) ---------------------------------------------------------------


def _labelled_volume(n_structures: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (300, 512, 512)
    labels = np.zeros(shape, dtype=np.uint8)
    for label in range(2, n_structures + 1):
        centre = rng.uniform([40, 120, 120], [260, 390, 390])
        radii = rng.uniform([8, 8, 8], [60, 45, 45])
        box = tuple(slice(max(int(c - r - 3), 0), min(int(c + r + 3), n)) for c, r, n in zip(centre, radii, shape))
        grid = np.ogrid[box]
        distance = sum(((g - c) / r) ** 2 for g, c, r in zip(grid, centre, radii))
        labels[box][distance + rng.normal(0, 0.08, distance.shape) < 1] = label
    k, j, i = np.ogrid[:300, :512, :512]
    body = np.broadcast_to(((j - 256) / 190.0) ** 2 + ((i - 256) / 235.0) ** 2 < 1, shape)
    labels[body & (labels == 0)] = 1
    return labels


@pytest.mark.slow
def test_speed_of_tracing_a_ct_sized_label_map():
    labels = _labelled_volume(n_structures=50)
    for encoding in HoleEncoding:
        times, points = [], 0
        for label, box in enumerate(ndimage.find_objects(labels), start=1):
            start = time.perf_counter()
            loops: LoopSet = trace_loops(labels[box] == label, encoding, origin_kji=[s.start for s in box])
            times.append(time.perf_counter() - start)
            points += len(loops.points_ij)
        print(f"\n{encoding.value}: {len(times)} structures of a 512x512x300 grid in {1000 * sum(times):.0f} ms "
              f"({1000 * np.mean(times):.1f} ms each, slowest {1000 * max(times):.0f} ms), {points} points")
    assert np.array_equal(rasterize_polygons(trace_loops(labels == 1).per_slice(), labels.shape), labels == 1)
