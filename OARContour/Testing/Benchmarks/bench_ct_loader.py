"""Benchmark: OARContour's CT loader against SimpleITK's ImageSeriesReader on the same files.

Goal (issue 2): loading 512×512×300 within 1.5× of SimpleITK. Both readers load the same files in
the same run, alternating, best of N, after one warm-up each (so the page cache is warm for both).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from OARContourLib.ct.load import load_ct
from OARContourLib.phantom import write_phantom

GOAL_RATIO = 1.5


def ensure_series(cache: Path, slices: int = 300) -> Path:
    ct_dir = cache / f"thorax_512x512x{slices}" / "ct"
    if not ct_dir.is_dir():
        write_phantom(ct_dir.parent, slices=slices, slice_spacing_mm=1.0, seed=11, overwrite=True)
    return ct_dir


def read_sitk(ct_dir: Path) -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    series = reader.GetGDCMSeriesIDs(str(ct_dir))
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(ct_dir), series[0]))
    return reader.Execute()


def best_time(function: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def run(cache: Path, repeats: int = 3) -> dict[str, object]:
    ct_dir = ensure_series(cache)
    ours, theirs = load_ct(ct_dir), read_sitk(ct_dir)  # warm-up, and proof both read the same voxels
    assert np.array_equal(ours.hu, sitk.GetArrayViewFromImage(theirs)), "loaders disagree on voxel values"
    t_ours = best_time(lambda: load_ct(ct_dir), repeats)
    t_sitk = best_time(lambda: read_sitk(ct_dir), repeats)
    ratio = t_ours / t_sitk
    return {
        "benchmark": "CT loader 512x512x300",
        "oarcontour_s": round(t_ours, 3), "simpleitk_s": round(t_sitk, 3),
        "ratio": round(ratio, 2), "goal": f"<= {GOAL_RATIO}", "met": ratio <= GOAL_RATIO,
    }
