"""Even-odd rasterisation of arbitrary polygons onto voxel centres, against a brute-force reference."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from OARContourLib.errors import GeometryError
from OARContourLib.rtstruct.rasterize import rasterize_packed, rasterize_polygons, rasterize_slice


def brute_force(polygons: list[np.ndarray], shape_ji: tuple[int, int]) -> np.ndarray:
    """Classic ray casting, one voxel centre at a time, in plain Python.

    The same half-open rules as documented: an edge crosses row y when exactly one end is above y
    (``y0 > y`` differs from ``y1 > y``), and counts for centres strictly right of the crossing.
    """
    inside = np.zeros(shape_ji, dtype=bool)
    for j in range(shape_ji[0]):
        for i in range(shape_ji[1]):
            parity = False
            for polygon in polygons:
                points = [tuple(map(float, p[:2])) for p in polygon]
                for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1]):
                    if (y0 > j) != (y1 > j):
                        x = x0 + (j - y0) * (x1 - x0) / (y1 - y0)
                        parity ^= i > x
            inside[j, i] = parity
    return inside


def random_polygons(rng: np.random.Generator, n_polygons: int, on_grid_points: bool) -> list[np.ndarray]:
    polygons = []
    for _ in range(n_polygons):
        n = int(rng.integers(3, 9))
        points = rng.uniform(-3, 14, size=(n, 2))
        polygons.append(np.round(points) if on_grid_points else points)
    return polygons


@pytest.mark.parametrize("seed", range(40))
def test_matches_brute_force_ray_casting(seed):
    rng = np.random.default_rng(seed)
    # Some polygons have their vertices exactly on voxel centres, to exercise the tie rules.
    polygons = random_polygons(rng, n_polygons=int(rng.integers(1, 4)), on_grid_points=seed % 2 == 0)
    shape_ji = (11, 12)
    assert np.array_equal(rasterize_slice(polygons, shape_ji), brute_force(polygons, shape_ji))


def test_crossings_exactly_on_centres_are_not_rounded_away():
    # At row 11 the long edge crosses x = 11 * 30 / 22 = 15 exactly; computing 30 / 22 first
    # lands a hair left of 15 and would toggle voxel (11, 15) too.
    triangle = np.array([[0.0, 0.0], [30.0, 22.0], [0.0, 22.0]])
    mask = rasterize_slice([triangle], (23, 32))
    assert np.array_equal(mask, brute_force([triangle], (23, 32)))
    assert mask[11, 15] and not mask[11, 16]


def test_analytic_circle_area_within_one_percent():
    radius, centre = 40.3, (50.2, 49.7)
    angles = np.linspace(0, 2 * np.pi, 720, endpoint=False)
    circle = np.stack([centre[0] + radius * np.cos(angles), centre[1] + radius * np.sin(angles)], axis=1)
    area = rasterize_slice([circle], (101, 101)).sum()
    assert abs(area - np.pi * radius**2) / (np.pi * radius**2) < 0.01


def test_square_through_voxel_centres_covers_its_area():
    # Corners on centres 0 and 2: half-open rules give exactly 2 x 2 voxels, rows 0-1, columns 1-2.
    square = np.array([[0, 0], [2, 0], [2, 2], [0, 2]], dtype=float)
    mask = rasterize_slice([square], (4, 4))
    assert mask.sum() == 4 and mask[0:2, 1:3].all()


def test_orientation_and_closing_point_do_not_matter():
    rng = np.random.default_rng(1)
    polygon = rng.uniform(0, 10, size=(7, 2))
    reference = rasterize_slice([polygon], (10, 10))
    assert np.array_equal(rasterize_slice([polygon[::-1]], (10, 10)), reference)
    assert np.array_equal(rasterize_slice([np.vstack([polygon, polygon[:1]])], (10, 10)), reference)
    assert reference.any()


def test_nested_contours_and_keyhole_cuts_make_the_same_hole():
    outer = np.array([[0.5, 0.5], [9.5, 0.5], [9.5, 9.5], [0.5, 9.5]])
    hole = np.array([[3.2, 3.1], [3.3, 6.8], [6.9, 6.6], [6.4, 3.3]])
    # A slanted cut from the outer corner (0.5, 0.5) to the hole and back, traversed both ways.
    keyhole = np.vstack([outer[:1], hole, hole[:1], outer])
    nested = rasterize_slice([outer, hole], (11, 11))
    assert np.array_equal(rasterize_slice([keyhole], (11, 11)), nested)
    assert not nested[4:6, 4:6].any() and nested[1:3, 1:9].all()


def test_xor_across_contours_of_a_slice():
    a = np.array([[0.5, 0.5], [6.5, 0.5], [6.5, 6.5], [0.5, 6.5]])
    b = a + 3
    mask = rasterize_slice([a, b], (12, 12))
    assert mask[2, 2] and mask[8, 8] and not mask[5, 5]


def test_polygons_outside_the_grid_are_clipped():
    polygons = [np.array([[-20.0, -5.3], [30.2, -4.1], [25.7, 40.0], [-12.0, 33.3]]),
                np.array([[3.3, 2.2], [8.8, 2.7], [5.1, 9.9]])]
    big = brute_force([p + [20, 10] for p in polygons], (40, 45))
    assert np.array_equal(rasterize_slice(polygons, (8, 9)), big[10:18, 20:29])
    assert not rasterize_slice([np.array([[-9.0, -9], [-5, -9], [-5, -5]])], (8, 9)).any()


def test_degenerate_contours_are_empty():
    shape = (1, 5, 5)
    assert not rasterize_polygons({0: [np.array([[1.0, 1.0], [3.0, 3.0]])]}, shape).any()
    assert not rasterize_polygons({0: [np.array([[1.0, 1.0]]), np.zeros((0, 2))]}, shape).any()
    assert not rasterize_polygons({0: [np.array([[1.0, 1.0], [3.0, 3.0], [1.0, 1.0]])]}, shape).any()
    assert not rasterize_polygons({}, shape).any()


def test_third_column_is_ignored_and_slices_are_kept_apart():
    triangle = np.array([[0.5, 0.5, 7.0], [4.5, 0.5, 7.0], [0.5, 4.5, 7.0]])
    mask = rasterize_polygons({1: [triangle]}, (3, 6, 6))
    assert mask[1].sum() > 0 and not mask[0].any() and not mask[2].any()


def test_slices_outside_the_grid_are_skipped_with_a_warning(caplog):
    square = np.array([[0.5, 0.5], [2.5, 0.5], [2.5, 2.5], [0.5, 2.5]])
    with caplog.at_level(logging.WARNING, logger="OARContourLib.rtstruct.rasterize"):
        mask = rasterize_polygons({-1: [square], 2: [square], 0: [square]}, (2, 4, 4))
    assert mask[0].sum() == 4 and not mask[1].any()
    assert "Skipped 2 contours on slices outside the 2-slice grid" in caplog.text


@pytest.mark.parametrize("bad, message", [
    (np.zeros((4, 4, 4)), r"slice 0 has shape \(4, 4, 4\), not \(n, 2\)"),
    (np.array([[0.0, 0.0], [1.0, np.nan], [2.0, 0.0]]), "slice 0 has non-finite coordinates"),
])
def test_malformed_polygons_are_refused(bad, message):
    with pytest.raises(GeometryError, match=message):
        rasterize_polygons({0: [bad]}, (1, 4, 4))


def test_packed_input_equals_mapping_input():
    rng = np.random.default_rng(3)
    polygons = random_polygons(rng, 3, on_grid_points=False)
    points = np.concatenate(polygons)
    offsets = np.r_[0, np.cumsum([len(p) for p in polygons])]
    packed = rasterize_packed(points, offsets, np.array([0, 2, 2]), (3, 12, 12))
    mapped = rasterize_polygons({0: polygons[:1], 2: polygons[1:]}, (3, 12, 12))
    assert np.array_equal(packed, mapped) and packed.any()
