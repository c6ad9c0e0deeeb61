"""``oarcontour demo --out DIR``: the whole job on the embedded phantom, headless.

Write the phantom → inspect it → load it with the Slicer Logic on slicer-core → auto-contour it
with the classical engine (Thorax template) → add hand-drawn structures under informal names and
name them by TG-263 → add a PRV → check → export an RTSTRUCT referencing the phantom CT → verify
it → write the HTML review report. Every step is the Logic method a panel button calls.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from ..ct.inspection import inspect_folder
from ..errors import InputError
from ..output_paths import OutputKind, check_output
from . import demo_steps
from .exit_codes import EXIT_FINDINGS, EXIT_OK
from .output import print_json, terminal_progress


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the whole workflow on the embedded phantom (needs oarcontour[headless])",
        description="Write the anatomical phantom and run the whole contouring workflow on it with the "
                    "Slicer Logic, headless: load, auto-contour, name, derive, check, export, verify, report.")
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
    demo_steps.write_json(out / "inspect.json", inspection.to_dict())
    clock.step("inspect", out / "inspect.json")
    scene, volume_path, dimensions = demo_steps.load_with_logic(phantom.ct_dir, out)
    clock.step("load (Logic, slicer-core)", volume_path)
    automatic, accuracy = demo_steps.autocontour(scene, phantom.truth_dir, out)
    clock.step(f"auto-contour, classical ({len(automatic)} structures)", out / "autoseg.json")
    demo_steps.add_hand_drawn(scene, phantom.truth_dir)
    renames = demo_steps.name_structures(scene, out)
    clock.step(f"names ({sum(r['applied'] for r in renames)} renamed)", out / "names.json")
    derived = demo_steps.derive(scene, out)
    clock.step(f"derive PRV ({', '.join(derived)})", out / "derived.json")
    findings = demo_steps.check(scene, out)
    clock.step(f"check ({len(findings)} findings)", out / "check.json")
    export = demo_steps.export_and_verify(scene, out)
    verification = export.verification
    clock.step(f"export + verify RTSTRUCT ({len(verification.findings)} findings)", export.path)
    report = demo_steps.review_report(scene, export.path, out)
    clock.step("review report", report)
    summary = {"schema": "oarcontour.demo/2", "output": str(out), "ct_dimensions_ijk": dimensions,
               "problems": [p.to_dict() for p in inspection.problems], "dice_vs_truth": accuracy,
               "renames": [r for r in renames if r["applied"]], "check": findings,
               "structures": [roi.name for roi in export.export.rois if roi.written],
               "round_trip_dice": dict(verification.dice), "rtstruct": str(export.path),
               "verification": str(export.verification_path), "report": str(report),
               "steps": [{"step": s, "seconds": round(t, 2), "output": o} for s, t, o in steps]}
    demo_steps.write_json(out / "summary.json", summary)
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
    out = check_output(out, kind=OutputKind.FOLDER, overwrite=overwrite)
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise InputError(f"Output folder {out} is not empty.", hint="Pass --overwrite or choose another folder.")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def _print_summary(steps: list[tuple[str, float, str]], summary: dict, out: Path) -> None:
    print("OARContour demo — phantom → load → auto-contour → names → PRV → check → export → verify → report")
    for step, seconds, output in steps:
        print(f"  {step:<52} {seconds:6.2f} s   {output}")
    print(f"  total {sum(s for _, s, _ in steps):.1f} s")
    print("  Dice of the automatic contours against the phantom's truth:")
    for name, dice in sorted(summary["dice_vs_truth"].items()):
        print(f"    {name:<14} {dice:.3f}")
    for rename in summary["renames"]:
        print(f"  renamed '{rename['old_name']}' → '{rename['new_name']}' ({rename['confidence']:.2f})")
    severities: dict[str, int] = {}
    for finding in summary["check"]:
        severities[finding["severity"]] = severities.get(finding["severity"], 0) + 1
    print(f"  check: {', '.join(f'{n} {s}' for s, n in sorted(severities.items())) or 'no findings'}")
    print(f"  RTSTRUCT round trip: min Dice {min(summary['round_trip_dice'].values()):.3f} over "
          f"{len(summary['round_trip_dice'])} structures")
    print(f"  RTSTRUCT      {summary['rtstruct']}")
    print(f"  verification  {summary['verification']}")
    print(f"  report        {summary['report']}")
    print(f"Outputs are in {out.resolve()}")
