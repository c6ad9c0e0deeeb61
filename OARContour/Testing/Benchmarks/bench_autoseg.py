"""Benchmark: classical auto-segmentation on a 512×512×150 phantom and 10 PRVs (issue goals:
classical < 10 s on 2 cores; derived-structure time reported). Dice against the phantom's truth is
printed beside the times, so speed never hides a loss of accuracy."""

from __future__ import annotations

import resource
import time
from pathlib import Path

import numpy as np
from OARContourLib.autoseg import segment_classical
from OARContourLib.ct.load import load_ct
from OARContourLib.derive import apply_recipes, spacing_kji
from OARContourLib.phantom import build_phantom, write_phantom

GOAL_S = 10.0
PRV_SOURCES = ("SpinalCord", "Esophagus", "Heart", "Trachea", "Kidney_L", "Kidney_R", "Liver", "Lung_L", "Lung_R",
               "A_Aorta")


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int((a & b).sum()) / total


def run(cache: Path) -> dict[str, object]:
    case = cache / "thorax_512x512x150"
    if not (case / "phantom.json").is_file():
        write_phantom(case, slices=150, slice_spacing_mm=2.4, seed=5, overwrite=True)
    ct = load_ct(case / "ct")
    truth = build_phantom(slices=150, slice_spacing_mm=2.4, seed=5).masks
    started = time.perf_counter()
    result = segment_classical(ct)
    classical_s = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    dice = {n: round(_dice(m, truth[n]), 3) for n, m in result.masks.items() if n in truth}
    started = time.perf_counter()
    apply_recipes({n: truth[n] for n in PRV_SOURCES}, spacing_kji(ct.geometry), [f"{n}:5" for n in PRV_SOURCES])
    prv_s = time.perf_counter() - started
    return {"benchmark": "classical autoseg 512x512x150", "classical_s": round(classical_s, 2),
            "peak_mb": round(peak_mb), "goal_s": GOAL_S, "met": classical_s < GOAL_S, "dice": dice,
            "prv10_s": round(prv_s, 2)}


def print_table(row: dict[str, object]) -> None:
    print(f"\n{'classical auto-segmentation':<36} {'value':>10} {'goal':>8}")
    print(f"{'time 512x512x150 (s)':<36} {row['classical_s']:>10} {'< ' + str(row['goal_s']):>8}  "
          f"{'met' if row['met'] else 'NOT met'}")
    print(f"{'peak memory of the process (MB)':<36} {row['peak_mb']:>10}")
    print(f"{'10 PRVs of 5 mm (s)':<36} {row['prv10_s']:>10}")
    for name, value in sorted(dict(row["dice"]).items()):  # type: ignore[call-overload]
        print(f"{'Dice ' + name:<36} {value:>10}")
