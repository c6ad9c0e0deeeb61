"""``oarcontour demo --out DIR``: the main job on the embedded phantom, headless.

At this stage: write the phantom → inspect it → load it through the Slicer Logic on slicer-core →
export its true masks as an RTSTRUCT referencing the phantom CT → verify it (41 rules and a
round trip against the masks) → save a summary. Each later
capability (auto-contouring, naming, checks, report) adds its step here.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np

from ..ct.inspection import inspect_folder
from ..ct.load import load_ct
from ..errors import InputError
from ..mask_files import read_masks
from ..rtstruct.model import ExportOptions, Structure
from ..rtstruct.roi_types import default_roi_type
from ..rtstruct.verify import VerificationReport, verify_rtstruct
from ..rtstruct.write import write_rtstruct
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

    started = time.perf_counter()
    phantom = write_phantom(out / "phantom", progress=progress)
    steps.append(("phantom", time.perf_counter() - started, str(phantom.ct_dir)))

    started = time.perf_counter()
    inspection = inspect_folder(phantom.ct_dir)
    (out / "inspect.json").write_text(json.dumps(inspection.to_dict(), indent=2))
    steps.append(("inspect", time.perf_counter() - started, str(out / "inspect.json")))

    started = time.perf_counter()
    volume_path, dimensions = _load_with_logic(phantom.ct_dir, out)
    steps.append(("load (Logic, slicer-core)", time.perf_counter() - started, str(volume_path)))

    started = time.perf_counter()
    rtstruct_path, verification = _export_and_verify(phantom.ct_dir, phantom.truth_dir, out)
    steps.append((f"export + verify RTSTRUCT ({verification.rois_checked} ROIs, "
                  f"{len(verification.findings)} findings, min Dice {min(verification.dice.values()):.3f})",
                  time.perf_counter() - started, str(rtstruct_path)))

    summary = {"schema": "oarcontour.demo/1", "output": str(out), "ct_dimensions_ijk": dimensions,
               "problems": [p.to_dict() for p in inspection.problems],
               "steps": [{"step": s, "seconds": round(t, 2), "output": o} for s, t, o in steps]}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    if args.json:
        print_json(summary)
    else:
        _print_summary(steps, inspection, out)
    return EXIT_FINDINGS if inspection.has_errors else EXIT_OK


def _prepare(out: Path, overwrite: bool) -> Path:
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise InputError(f"Output folder {out} is not empty.", hint="Pass --overwrite or choose another folder.")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def _load_with_logic(ct_dir: Path, out: Path) -> tuple[Path, list[int]]:
    """Load the CT through ``OARContourLogic.loadCT`` on a headless scene and save it as NRRD."""
    from .. import headless  # imports slicer: only here, so the other commands run without it

    headless.setup()
    from ..logic import OARContourLogic

    node = OARContourLogic().loadCT(ct_dir)
    target = out / "scene" / "CT.nrrd"
    target.parent.mkdir(parents=True, exist_ok=True)
    storage = node.CreateDefaultStorageNode()
    storage.SetFileName(str(target))
    if not storage.WriteData(node):
        raise InputError(f"Could not write {target}.", hint="Check the output folder is writable.")
    return target, list(node.GetImageData().GetDimensions())


def _export_and_verify(ct_dir: Path, truth_dir: Path, out: Path) -> tuple[Path, VerificationReport]:
    """The phantom's true masks as an RTSTRUCT referencing the phantom CT, then verified against them."""
    ct = load_ct(ct_dir)
    masks, _ = read_masks(truth_dir, ct.geometry)
    structures = [Structure(m.name, m.mask, m.offset_kji, roi_type=default_roi_type(m.name)) for m in masks]
    target = out / "RS_phantom.dcm"
    write_rtstruct(target, ct, structures, ExportOptions(structure_set_label="OARContourDemo"))
    full = {m.name: _full_mask(m.mask, m.offset_kji, ct.hu.shape) for m in masks if m.mask.size}
    verification = verify_rtstruct(target, ct, source_masks=full)
    (out / "RS_phantom.verify.json").write_text(json.dumps(verification.to_dict(), indent=2))
    return target, verification


def _full_mask(block: np.ndarray, offset: tuple[int, int, int], shape: tuple[int, ...]) -> np.ndarray:
    full = np.zeros(shape, dtype=bool)
    k, j, i = offset
    full[k:k + block.shape[0], j:j + block.shape[1], i:i + block.shape[2]] = block
    return full


def _print_summary(steps: list[tuple[str, float, str]], inspection, out: Path) -> None:  # type: ignore[no-untyped-def]
    print("OARContour demo — phantom → inspect → load → export → verify")
    for step, seconds, output in steps:
        print(f"  {step:<28} {seconds:6.2f} s   {output}")
    verdict = "no problems" if not inspection.problems else f"{len(inspection.problems)} problem(s), see inspect.json"
    print(f"  CT check: {verdict}")
    print(f"Outputs are in {out.resolve()}")
