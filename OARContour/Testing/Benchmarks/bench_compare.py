"""Benchmark: ``compare`` of 20 structure pairs on a 512×512×150 CT grid (goal: under 10 s on 2 cores).

Structures are ellipsoids of organ sizes (body, lungs, liver, heart down to the spinal cord and the
eyes); each test structure is the reference moved by 1–3 voxels and grown or shrunk by one voxel,
so every metric has real surface distances to compute. Timed: pairing and all metrics
(:func:`OARContourLib.compare.compare_structure_sets`) from cropped masks in memory; reading the
inputs is timed by the loader benchmarks.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from OARContourLib.compare import StructureSet, compare_structure_sets
from OARContourLib.ct.model import ImageGeometry
from OARContourLib.mask_block import crop
from OARContourLib.mask_grid import MaskInput
from scipy import ndimage

GOAL_S = 10.0
SHAPE_KJI = (150, 512, 512)
SPACING_MM = (0.9765625, 0.9765625, 3.0)
#: name: (centre x, y, z in mm from the grid centre; semi-axes in mm)
ORGANS = {
    "Body": ((0, 0, 0), (230, 160, 230)), "Lung_L": ((80, 0, 60), (60, 80, 110)),
    "Lung_R": ((-80, 0, 60), (65, 85, 115)), "Heart": ((20, -30, 10), (55, 45, 55)),
    "Liver": ((-70, 0, -110), (90, 75, 70)), "SpinalCord": ((0, 90, 0), (6, 6, 200)),
    "Esophagus": ((0, 50, 40), (9, 8, 120)), "Trachea": ((0, 20, 150), (10, 10, 50)),
    "Kidney_L": ((60, 70, -150), (30, 28, 50)), "Kidney_R": ((-60, 70, -155), (30, 28, 50)),
    "A_Aorta": ((10, 40, 0), (13, 13, 150)), "Stomach": ((70, -30, -90), (50, 40, 50)),
    "Spleen": ((95, 40, -100), (30, 25, 50)), "Bladder": ((0, -40, -200), (35, 30, 25)),
    "Parotid_L": ((55, 10, 190), (18, 22, 25)), "Parotid_R": ((-55, 10, 190), (18, 22, 25)),
    "Eye_L": ((32, -70, 215), (12, 12, 12)), "Eye_R": ((-32, -70, 215), (12, 12, 12)),
    "Brainstem": ((0, 20, 200), (14, 16, 30)), "Thyroid": ((0, -20, 140), (25, 12, 25)),
}


def grid() -> ImageGeometry:
    k, j, i = SHAPE_KJI
    origin = (-(i - 1) / 2 * SPACING_MM[0], -(j - 1) / 2 * SPACING_MM[1], -(k - 1) / 2 * SPACING_MM[2])
    return ImageGeometry(SHAPE_KJI, SPACING_MM, origin, ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)))


def ellipsoid(centre_mm: tuple[float, ...], axes_mm: tuple[float, ...]) -> MaskInput:
    """An ellipsoid built in its own bounding block (never a full-grid array)."""
    spacing = np.array(SPACING_MM[::-1])  # k, j, i
    centre = np.array(centre_mm[::-1]) / spacing + (np.array(SHAPE_KJI) - 1) / 2
    half = np.array(axes_mm[::-1]) / spacing
    low = np.maximum(np.floor(centre - half).astype(int), 0)
    high = np.minimum(np.ceil(centre + half).astype(int) + 1, SHAPE_KJI)
    k, j, i = np.ogrid[low[0]:high[0], low[1]:high[1], low[2]:high[2]]
    block = ((k - centre[0]) / half[0]) ** 2 + ((j - centre[1]) / half[1]) ** 2 + ((i - centre[2]) / half[2]) ** 2 <= 1
    return MaskInput("", block, (int(low[0]), int(low[1]), int(low[2])))


def structure_sets(seed: int = 11) -> tuple[StructureSet, StructureSet]:
    rng = np.random.default_rng(seed)
    reference, test = [], []
    for n, (name, (centre, axes)) in enumerate(ORGANS.items()):
        base = ellipsoid(centre, axes)
        reference.append(MaskInput(name, base.mask, base.offset_kji))
        moved = np.pad(base.mask, 4)
        moved = np.roll(moved, tuple(int(v) for v in rng.integers(1, 4, size=3)), axis=(0, 1, 2))
        moved = ndimage.binary_dilation(moved) if n % 2 else ndimage.binary_erosion(moved)
        block, offset = crop(moved)
        start = tuple(max(o + b - 4, 0) for o, b in zip(offset, base.offset_kji))
        block = block[tuple(slice(0, s - st) for s, st in zip(SHAPE_KJI, start))]
        test.append(MaskInput(name, block, (start[0], start[1], start[2])))
    return StructureSet("reference", tuple(reference)), StructureSet("test", tuple(test))


def run(cache: Path | None = None) -> dict[str, Any]:
    """Time one comparison of the 20 pairs (``cache`` is unused; kept for the runner's common signature)."""
    reference, test = structure_sets()
    started = time.perf_counter()
    result = compare_structure_sets(reference, test, grid(), tolerance_mm=2.0)
    seconds = time.perf_counter() - started
    return {"benchmark": "compare 20 pairs 512x512x150", "seconds": round(seconds, 2), "pairs": len(result.pairs),
            "min_dice": round(min(p.metrics.dice for p in result.pairs), 3), "goal_s": GOAL_S,
            "met": seconds < GOAL_S and len(result.pairs) == len(ORGANS)}


def print_table(result: dict[str, Any]) -> None:
    print(f"\n{'structure-set comparison':<40} {'value':>12} {'goal':>10}")
    print(f"{'pairs compared':<40} {result['pairs']:>12} {len(ORGANS):>10}")
    print(f"{'seconds (pairing + all metrics)':<40} {result['seconds']:>12} {'< ' + str(GOAL_S):>10}")
    print(f"{'lowest Dice (perturbed copies)':<40} {result['min_dice']:>12} {'':>10}")
    print(f"{'met':<40} {'yes' if result['met'] else 'NO':>12}", flush=True)


if __name__ == "__main__":
    print_table(run())
