"""``oarcontour demo --out DIR``: the main job on the embedded phantom, headless.

Write the phantom → inspect it → load it through the Slicer Logic on slicer-core → auto-contour it
with the classical engine (Thorax template) → add a PRV → export an RTSTRUCT referencing the
phantom CT → verify it (41 rules and a round trip) → save a summary. The Slicer-panel steps
(naming review, checks, report) join when they land.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from ..ct.inspection import inspect_folder
from ..errors import InputError
from . import demo_steps
from .exit_codes import EXIT_FINDINGS, EXIT_OK
from .output import print_json, terminal_progress


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the whole workflow on the embedded phantom (needs oarcontour[headless])",
        description="Write the anatomical phantom, inspect it and load it with the Slicer Logic headless.")
    parser.add_argument("-o", "--out", default="demo_output", help="output folder (default: demo_output)")
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty output folder")
    parser.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..phantom import write_phantom  # heavy (scipy.interpolate): only when this command runs

    out = _prepare(Path(args.out), args.overwrite)
    steps: list[tuple[str, float, str]] = []
    progress = terminal_progress(not args.json and not args.quiet)
    clock = _Clock(steps)
    phantom = write_phantom(out / "phantom", progress=progress)
    clock.step("phantom", phantom.ct_dir)
    inspection = inspect_folder(phantom.ct_dir)
    (out / "inspect.json").write_text(json.dumps(inspection.to_dict(), indent=2))
    clock.step("inspect", out / "inspect.json")
    volume_path, dimensions = demo_steps.load_with_logic(phantom.ct_dir, out)
    clock.step("load (Logic, slicer-core)", volume_path)
    ct = demo_steps.load_ct(phantom.ct_dir)
    result, accuracy = demo_steps.autocontour(ct, phantom.truth_dir, out)
    clock.step(f"auto-contour, classical ({len(result.structures)} structures)", out / "autoseg.json")
    structures = [*result.structures, *demo_steps.derived_structures(ct, result)]
    clock.step("derive PRV", out / "autoseg.json")
    rtstruct_path, verification = demo_steps.export_and_verify(ct, structures, out)
    clock.step(f"export + verify RTSTRUCT ({len(verification.findings)} findings)", rtstruct_path)
    summary = {"schema": "oarcontour.demo/1", "output": str(out), "ct_dimensions_ijk": dimensions,
               "problems": [p.to_dict() for p in inspection.problems], "dice_vs_truth": accuracy,
               "structures": [s.name for s in structures], "not_tg263": demo_steps.check_names(structures),
               "round_trip_dice": dict(verification.dice),
               "steps": [{"step": s, "seconds": round(t, 2), "output": o} for s, t, o in steps]}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    if args.json:
        print_json(summary)
    else:
        _print_summary(steps, summary, out)
    return EXIT_FINDINGS if inspection.has_errors or verification.has_errors else EXIT_OK


class _Clock:
    """Times consecutive steps."""

    def __init__(self, steps: list[tuple[str, float, str]]) -> None:
        self.steps = steps
        self.last = time.perf_counter()

    def step(self, name: str, output: Path) -> None:
        now = time.perf_counter()
        self.steps.append((name, now - self.last, str(output)))
        self.last = now


def _prepare(out: Path, overwrite: bool) -> Path:
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise InputError(f"Output folder {out} is not empty.", hint="Pass --overwrite or choose another folder.")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def _print_summary(steps: list[tuple[str, float, str]], summary: dict, out: Path) -> None:
    print("OARContour demo — phantom → inspect → load → auto-contour → derive → export → verify")
    for step, seconds, output in steps:
        print(f"  {step:<48} {seconds:6.2f} s   {output}")
    print("  Dice of the automatic contours against the phantom's truth:")
    for name, dice in sorted(summary["dice_vs_truth"].items()):
        print(f"    {name:<14} {dice:.3f}")
    print(f"  RTSTRUCT round trip: min Dice {min(summary['round_trip_dice'].values()):.3f} over "
          f"{len(summary['round_trip_dice'])} structures")
    print(f"Outputs are in {out.resolve()}")
