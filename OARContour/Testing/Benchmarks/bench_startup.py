"""Benchmark: what OARContour adds to Slicer's start-up, and what the panel costs when first shown.

Slicer executes every scripted module file at start-up (``qSlicerScriptedLoadableModuleFactory``),
so the time to load ``OARContour.py`` and instantiate its module class is paid at every Slicer start.
Each run is a fresh interpreter that has MRML (slicer-core) loaded, as the application has, and
loads the module file as Slicer's factory does (:mod:`testsupport.slicer_app_standin`). Goal: under
0.3 s (median). Building the Logic and the panel choices (the core's imports and data tables) happens
on first use of the panel, not at start-up; it is reported for information.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

TESTING = Path(__file__).resolve().parents[1]
MODULE_DIR = TESTING.parent
GOAL_S = 0.3
RUNS = 7
FIRST_USE_RUNS = 3


def _load(*arguments: str) -> dict[str, Any]:
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([str(MODULE_DIR), str(TESTING)]))
    completed = subprocess.run([sys.executable, "-m", "testsupport.slicer_app_standin", *arguments], check=True,
                               capture_output=True, text=True, env=environment, cwd=TESTING, timeout=600)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run(cache: Path | None = None) -> dict[str, Any]:
    """Medians over fresh interpreters (``cache`` is unused; kept for the runner's common signature)."""
    imports = [_load() for _ in range(RUNS)]
    first_use = [_load("--start") for _ in range(FIRST_USE_RUNS)]
    import_s = statistics.median(r["import_s"] for r in imports)
    return {"benchmark": "module start-up", "runs": RUNS, "import_s": round(import_s, 4),
            "import_max_s": round(max(r["import_s"] for r in imports), 4),
            "heavy_imported": sorted({name for r in imports for name in r["heavy_imported"]}),
            "first_use_s": round(statistics.median(r["start_s"] for r in first_use), 3),
            "first_use_problem": next((r["problem"]["message"] for r in first_use if r["problem"]), None),
            "goal_s": GOAL_S, "met": import_s < GOAL_S}


def print_table(result: dict[str, Any]) -> None:
    """The start-up table of ``make bench``."""
    print(f"\n{'module start-up':<52} {'value':>9} {'goal':>8}  met")
    print(f"{'OARContour.py load at Slicer start-up (median s)':<52} {result['import_s']:>9} "
          f"{'< ' + str(result['goal_s']):>8}  {'yes' if result['met'] else 'NO'}")
    print(f"{'  slowest of ' + str(result['runs']) + ' runs (s)':<52} {result['import_max_s']:>9}")
    print(f"{'  numpy/scipy/pydicom/SimpleITK/core imported':<52} {len(result['heavy_imported']):>9} {'0':>8}")
    print(f"{'first panel open: Logic + choices (median s)':<52} {result['first_use_s']:>9}")
    if result["first_use_problem"]:
        print(f"  first use failed: {result['first_use_problem']}")


if __name__ == "__main__":
    outcome = run()
    print_table(outcome)
    sys.exit(0 if outcome["met"] else 1)
