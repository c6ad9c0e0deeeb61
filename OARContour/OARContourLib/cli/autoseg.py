"""``oarcontour autoseg CT_DIR --out SEG.seg.nrrd``: automatic OAR contours as a Slicer segmentation."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .. import seg_nrrd, segment_tags
from ..autoseg.engine import run_request
from ..autoseg.engines import REGISTRY, engine_for, engine_names
from ..autoseg.request import DEVICES, AutosegRequest
from ..autoseg.result import AutosegResult
from ..autoseg.selection import TOTALSEGMENTATOR
from ..autoseg.ts_probe import PYTHON_VARIABLE
from ..ct.load import load_ct
from ..ct.model import CTVolume, ImageGeometry
from ..errors import InputError
from ..output_paths import OutputKind, check_output
from ..progress import ProgressCallback, scaled
from ..rtstruct.model import Structure
from ..seg_nrrd import Segment
from .exit_codes import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK
from .output import print_json, terminal_progress

SCHEMA = "oarcontour.autoseg/1"
PREFLIGHT_SCHEMA = "oarcontour.autoseg-preflight/1"
SEG_SUFFIX = ".seg.nrrd"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "autoseg", help="automatic OAR contours (classical engine or TotalSegmentator) as .seg.nrrd",
        description="Segment the CT with the classical engine (no weights) or TotalSegmentator, or import an "
                    "existing TotalSegmentator output (--import-ts), and write a Slicer .seg.nrrd on the CT grid "
                    "with TG-263 names. --preflight only checks whether TotalSegmentator could run.")
    parser.add_argument("ct_dir", metavar="CT_DIR", help="folder of the CT's DICOM files")
    parser.add_argument("-o", "--out", help="segmentation file to write (.seg.nrrd); required unless --preflight")
    parser.add_argument("--engine", choices=engine_names(),
                        help=f"segmentation engine (default: {REGISTRY[0].name}, or {TOTALSEGMENTATOR} with --import-ts)")
    selection = parser.add_mutually_exclusive_group()
    selection.add_argument("--template", metavar="NAME", help="site template, e.g. Thorax")
    selection.add_argument("--structures", metavar="A,B", help="comma-separated TG-263 names")
    parser.add_argument("--import-ts", metavar="PATH", help="existing TotalSegmentator output (multilabel NIfTI "
                                                             "or folder of <class>.nii.gz) to import")
    parser.add_argument("--task", default="total", help="TotalSegmentator task of --import-ts (default: total)")
    parser.add_argument("--labels", metavar="TABLE", help="label,name CSV for a multilabel file without names")
    parser.add_argument("--device", choices=DEVICES, default="auto",
                        help="TotalSegmentator device (default: auto, the GPU when one is usable)")
    parser.add_argument("--fast", action="store_true", help="TotalSegmentator 3 mm models (faster, less memory)")
    parser.add_argument("--ts-python", metavar="PATH",
                        help=f"Python interpreter that has TotalSegmentator (default: ${PYTHON_VARIABLE}, else this one)")
    parser.add_argument("--preflight", action="store_true",
                        help="only check that the engine (default with --preflight: totalsegmentator) can run "
                             "(weights, licence, memory, device); exit 0 if it can, 2 if not")
    parser.add_argument("--series", metavar="UID", help="CT Series Instance UID when CT_DIR holds several")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    parser.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.preflight:
        return run_preflight(args)
    out = _check_output(args.out, args.overwrite)
    check_output(out, [args.ct_dir, args.import_ts, args.labels], kind=OutputKind.FILE, overwrite=args.overwrite)
    engine = _engine(args)
    structures = _structure_list(args.structures)
    progress = terminal_progress(not args.json and not args.quiet)
    ct = load_ct(args.ct_dir, args.series)
    result = _segment(args, ct, engine, structures, scaled(progress, 0.0, 0.85))
    if not result.structures:
        print(f"oarcontour: nothing to write: no structure was produced ({len(result.skipped)} skipped).",
              file=sys.stderr)
        _report(args, out, result, written=False)
        return EXIT_FINDINGS
    write_seg_nrrd(out, ct.geometry, result, scaled(progress, 0.85, 1.0))
    _report(args, out, result, written=True)
    return EXIT_OK


def _segment(args: argparse.Namespace, ct: CTVolume, engine: str, structures: list[str] | None,
             progress: ProgressCallback | None) -> AutosegResult:
    if args.import_ts:
        from ..autoseg.totalsegmentator_outputs import import_totalsegmentator_output

        return import_totalsegmentator_output(args.import_ts, ct, task=args.task, label_map=args.labels,
                                              template=args.template, structures=structures, progress=progress)
    return run_request(ct, engine, _request(args, structures), progress)


def _request(args: argparse.Namespace, structures: list[str] | None) -> AutosegRequest:
    return AutosegRequest.of(args.template, structures, device=args.device, fast=args.fast, python=args.ts_python)


def run_preflight(args: argparse.Namespace) -> int:
    """Print what the engine's run would do and every problem blocking it; run nothing."""
    engine = engine_for(args.engine or TOTALSEGMENTATOR)
    ct = load_ct(args.ct_dir, args.series)  # the memory estimate needs the CT's size
    report = None if args.import_ts else engine.preflight(ct, _request(args, _structure_list(args.structures)))
    if report is None:
        raise InputError(f"--preflight checks an engine that needs checking before it runs; {engine.name} does not "
                         "(and --import-ts runs nothing).", hint="Drop --preflight, or use --engine totalsegmentator.")
    if args.json:
        print_json({"schema": PREFLIGHT_SCHEMA, **report.to_dict()})
    else:
        print("\n".join(report.lines))
    return EXIT_OK if report.ok else EXIT_BAD_INPUT


def _check_output(path: str | None, overwrite: bool) -> Path:
    if not path:
        raise InputError("An output file is required.", hint=f"Pass --out structures{SEG_SUFFIX}, or --preflight.")
    out = Path(path).expanduser()
    if not out.name.lower().endswith(SEG_SUFFIX):
        raise InputError(f"Output {out.name} must end in {SEG_SUFFIX}.", hint=f"e.g. --out structures{SEG_SUFFIX}")
    return out


def _engine(args: argparse.Namespace) -> str:
    if args.import_ts and args.engine not in (None, TOTALSEGMENTATOR):
        raise InputError("--import-ts imports a TotalSegmentator output; it cannot be combined with --engine classical.",
                         hint="Drop --engine or use --engine totalsegmentator.")
    return TOTALSEGMENTATOR if args.import_ts else (args.engine or REGISTRY[0].name)


def _structure_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise InputError("--structures is empty.", hint="Pass comma-separated TG-263 names, e.g. Body,Lung_L.")
    return names


def write_seg_nrrd(out: Path, geometry: ImageGeometry, result: AutosegResult,
                   progress: ProgressCallback | None = None) -> None:
    """Write the structures as a Slicer segmentation on the CT grid, atomically (temp file, then rename).

    Each segment carries its TG-263 name, table colour and tags with the RT ROI type, generation
    algorithm and description; the file header carries the run's provenance as JSON.
    """
    segments = [Segment(s.name, s.mask, s.color, _segment_tags(s), s.name, s.offset_kji) for s in result.structures]
    header = {"OARContour_Provenance": json.dumps(result.provenance, sort_keys=True, default=str)}
    seg_nrrd.write_seg_nrrd(out, segments, geometry.ijk_to_lps(), geometry.shape, header, progress)


def _segment_tags(structure: Structure) -> dict[str, str]:
    # The same tags the Slicer Logic sets, so `oarcontour export` and Slicer read them back.
    tags = segment_tags.tags_for(structure)
    tags[segment_tags.DESCRIPTION_TAG] = structure.description.replace("|", "/")  # '|' separates .seg.nrrd fields
    return tags


def _report(args: argparse.Namespace, out: Path, result: AutosegResult, written: bool) -> None:
    if args.json:
        print_json({"schema": SCHEMA, "path": str(out) if written else None, **result.to_dict()})
        return
    if written:
        print(f"Wrote {out}: {len(result.structures)} structures ({', '.join(s.name for s in result.structures)}).")
    for name, reason in result.skipped.items():
        print(f"SKIPPED {name}: {reason}")
    for finding in result.findings:
        print(f"{finding.severity.value.upper():<7} {finding.code}: {finding.message}")
