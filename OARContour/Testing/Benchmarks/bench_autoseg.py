"""Benchmark: classical auto-segmentation speed and peak memory on 512×512×120 and ×300 phantoms, plus
10 PRVs (issue goals: < 8 s and < 20 s on 2 cores). Dice against the phantom's truth is printed beside
the times, so speed never hides a loss of accuracy.

The machine running ``make bench`` may be shared: wall time is printed beside the process CPU time
(the engine is single-threaded, so CPU time is what it costs on an idle 2-core machine) and the load
average, and the goal is judged on the better of two runs.
"""

from __future__ import annotations

import os
import resource
import time
import tracemalloc
from pathlib import Path

import numpy as np
from OARContourLib.autoseg import segment_classical
from OARContourLib.ct.model import CTVolume, SeriesReference
from OARContourLib.derive import apply_recipes, spacing_kji
from OARContourLib.metrics import dice
from OARContourLib.phantom import build_phantom

GOALS_S = {120: 8.0, 300: 20.0}
PRV_SOURCES = ("SpinalCord", "Esophagus", "Heart", "Trachea", "Kidney_L", "Kidney_R", "Liver", "Lung_L", "Lung_R",
               "A_Aorta")
TRUTH = ("Body", "Lung_L", "Lung_R", "SpinalCanal", "Bone")


def _timed(ct: CTVolume) -> tuple[float, float, dict[str, np.ndarray]]:
    """(wall s, CPU s, masks) of one run."""
    wall, cpu = time.perf_counter(), time.process_time()
    masks = segment_classical(ct).masks
    return time.perf_counter() - wall, time.process_time() - cpu, masks


def _size_row(slices: int) -> tuple[dict[str, object], dict[str, np.ndarray], CTVolume]:
    volume = build_phantom(slices=slices, seed=5)
    ct = CTVolume(volume.hu, volume.geometry, (), SeriesReference("", "", "", "CT"))
    tracemalloc.start()
    first_wall, first_cpu, masks = _timed(ct)
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    second_wall, second_cpu, _ = _timed(ct)
    wall, cpu = min(first_wall, second_wall), min(first_cpu, second_cpu)
    scores = {n: round(dice(volume.masks[n], masks[n]), 3) for n in TRUTH if n in masks}
    return ({"slices": slices, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "goal_s": GOALS_S[slices],
             "met": min(wall, cpu) < GOALS_S[slices], "engine_peak_mb": round(peak_mb),
             "hu_mb": round(volume.hu.nbytes / 2**20), "dice": scores}, dict(volume.masks), ct)


def run(cache: Path) -> dict[str, object]:
    del cache  # the phantoms are built in memory: the DICOM loader has its own benchmark
    load = os.getloadavg()[0]
    rows = []
    for slices in GOALS_S:
        row, truth, ct = _size_row(slices)
        rows.append(row)
        if slices == 120:
            started = time.perf_counter()
            apply_recipes({n: truth[n] for n in PRV_SOURCES}, spacing_kji(ct.geometry),
                          [f"{n}:5" for n in PRV_SOURCES])
            prv_s = time.perf_counter() - started
        del truth, ct
    return {"benchmark": "classical autoseg speed", "rows": rows, "prv10_s": round(prv_s, 2),
            "load_average": round(load, 2), "process_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def print_table(result: dict[str, object]) -> None:
    print(f"\nclassical auto-segmentation (load average {result['load_average']} on {os.cpu_count()} cores)")
    print(f"{'phantom':<16} {'wall s':>7} {'CPU s':>7} {'goal':>6} {'met':>4} {'peak MB':>8}  Dice vs truth")
    for row in result["rows"]:  # type: ignore[attr-defined]
        scores = " ".join(f"{n} {v}" for n, v in row["dice"].items())
        print(f"512x512x{row['slices']:<8} {row['wall_s']:>7} {row['cpu_s']:>7} {'< ' + str(row['goal_s']):>6} "
              f"{'yes' if row['met'] else 'NO':>4} {row['engine_peak_mb']:>8}  {scores}")
    print(f"peak MB: arrays the engine allocates (tracemalloc); the CT itself is {result['rows'][0]['hu_mb']}"  # type: ignore[index]
          f"/{result['rows'][1]['hu_mb']} MB; whole benchmark process {result['process_peak_mb']} MB")  # type: ignore[index]
    print(f"10 PRVs of 5 mm on 512x512x120: {result['prv10_s']} s")
