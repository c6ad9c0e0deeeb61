"""``oarcontour derive SEG --out SEG2 --prv SpinalCord:5 --prv CTV:7,post=5 --ring PTV:5:15 --subtract Lungs:GTV``."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from .. import segment_tags
from ..derive import apply_recipes
from ..errors import InputError
from ..findings import has_errors
from ..output_paths import OutputKind, check_output
from ..seg_nrrd import Segment, read_seg_nrrd_native, write_seg_nrrd
from .exit_codes import EXIT_FINDINGS, EXIT_OK
from .output import print_json, terminal_progress


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "derive", help="add PRVs, rings and subtractions to a Slicer .seg.nrrd",
        description="Margins are exact in mm on anisotropic voxels (Euclidean distance); results get "
                    "TG-263 names (SpinalCord_PRV05, zRing_PTV_5_15, Lungs-GTV) and RT ROI types. "
                    "Directional PRVs take a default margin plus exceptions toward patient directions "
                    "(anterior/ant/A, posterior/post/P, left/L, right/R, superior/sup/S, inferior/inf/I), "
                    "e.g. CTV:7,post=5 (named PTV) or SpinalCord:ant=3,post=5,left=3,right=3,sup=0,inf=0 "
                    "(named SpinalCord_PRV); left is the patient's left whatever the patient position.")
    parser.add_argument("seg", metavar="SEG", help="input .seg.nrrd")
    parser.add_argument("-o", "--out", required=True, help="output .seg.nrrd (input segments + derived ones)")
    parser.add_argument("--prv", action="append", default=[], metavar="NAME:MM[,DIR=MM...][=RESULT]",
                        help="PRV, e.g. SpinalCord:5, or directional, e.g. CTV:7,post=5=PTV")
    parser.add_argument("--ring", action="append", default=[], metavar="NAME:INNER:OUTER", help="ring, e.g. PTV:5:15")
    parser.add_argument("--subtract", action="append", default=[], metavar="A:B", help="A minus B, e.g. Lungs:GTV")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    parser.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    source, target = Path(args.seg).expanduser(), Path(args.out).expanduser()
    recipes = [*args.prv, *(f"{r}" for r in args.ring), *args.subtract]
    _check(source, target, recipes, args.overwrite)
    segments, ijk_to_lps = read_seg_nrrd_native(source)
    spacing_kji = tuple(float(v) for v in np.linalg.norm(ijk_to_lps[:3, :3], axis=0)[::-1])
    result = apply_recipes({s.name: s.mask for s in segments}, spacing_kji, recipes,
                           terminal_progress(not args.json and not args.quiet), ijk_to_lps=ijk_to_lps)
    derived = [Segment(n.name, result.masks[n.name], n.color, {segment_tags.ROI_TYPE_TAG: n.roi_type.value})
               for n in result.names]
    write_seg_nrrd(target, [*segments, *derived], ijk_to_lps)
    if args.json:
        print_json({"schema": "oarcontour.derive/1", "out": str(target), **result.to_dict()})
    else:
        for name in result.names:
            print(f"{name.name:<18} {name.roi_type.value:<10} {int(result.masks[name.name].sum()):>9} voxels")
        for finding in result.findings:
            print(f"{finding.severity.value.upper():<7} {finding.code}: {finding.message}")
        print(f"Wrote {target}")
    return EXIT_FINDINGS if has_errors(list(result.findings)) else EXIT_OK


def _check(source: Path, target: Path, recipes: list[str], overwrite: bool) -> None:
    if not source.is_file():
        raise InputError(f"Segmentation not found: {source}", hint="Pass a Slicer .seg.nrrd file.")
    if not recipes:
        raise InputError("No structure to derive.", hint="Add --prv NAME:MM, --ring NAME:INNER:OUTER or --subtract A:B.")
    check_output(target, [source], kind=OutputKind.FILE, overwrite=overwrite)
