"""Patient directions of the voxel grid: where left, posterior and superior are in (k, j, i).

Every left/right, anterior/posterior and top/bottom decision goes through the geometry (ijk → LPS),
never through array order, so the recipes work for HFS, HFP, FFS and FFP scans alike.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ...ct.model import ImageGeometry


def kji_to_lps(geometry: ImageGeometry, kji: np.ndarray) -> np.ndarray:
    """LPS millimetres of an (n, 3) array of (k, j, i) voxel coordinates (fractional allowed)."""
    points = np.asarray(kji, dtype=float).reshape(-1, 3)
    ijk1 = np.column_stack([points[:, ::-1], np.ones(len(points))])
    return (geometry.ijk_to_lps() @ ijk1.T).T[:, :3]


def slice_z_mm(geometry: ImageGeometry) -> np.ndarray:
    """LPS z (superior is +z) of each slice centre, indexed by k."""
    k = np.arange(geometry.shape[0], dtype=float)
    kji = np.column_stack([k, np.zeros_like(k), np.zeros_like(k)])
    return kji_to_lps(geometry, kji)[:, 2]


def slices_top_down(geometry: ImageGeometry) -> np.ndarray:
    """Slice indices ordered from the most superior to the most inferior."""
    return np.argsort(-slice_z_mm(geometry), kind="stable")


def in_plane_lps(geometry: ImageGeometry, j: np.ndarray, i: np.ndarray, k: np.ndarray) -> np.ndarray:
    """LPS (x, y) of in-plane voxel positions (arrays of equal length)."""
    kji = np.column_stack([np.asarray(k, float), np.asarray(j, float), np.asarray(i, float)])
    return kji_to_lps(geometry, kji)[:, :2]


def spacing_kji_mm(geometry: ImageGeometry) -> tuple[float, float, float]:
    si, sj, sk = geometry.spacing_mm
    return (float(sk), float(sj), float(si))


def crop_geometry(geometry: ImageGeometry, box: tuple[slice, slice, slice]) -> ImageGeometry:
    """The geometry of ``array[box]`` (a (k, j, i) crop with unit steps)."""
    starts = [s.indices(n)[0] for s, n in zip(box, geometry.shape)]
    stops = [s.indices(n)[1] for s, n in zip(box, geometry.shape)]
    origin = geometry.ijk_to_lps() @ np.array([starts[2], starts[1], starts[0], 1.0])
    shape = (stops[0] - starts[0], stops[1] - starts[1], stops[2] - starts[2])
    origin_lps = (float(origin[0]), float(origin[1]), float(origin[2]))
    return dataclasses.replace(geometry, shape=shape, origin_lps=origin_lps)
