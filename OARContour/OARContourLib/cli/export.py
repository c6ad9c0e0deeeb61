"""``oarcontour export CT_DIR SEG --out RS.dcm``: masks → RTSTRUCT referencing the original CT."""

from __future__ import annotations

import argparse
import sys

from ..ct.load import load_ct
from ..findings import Finding, has_errors
from ..mask_files import read_masks
from ..mask_grid import MaskInput
from ..naming.appearance import appearance
from ..output_paths import OutputKind, check_output
from ..rtstruct.contours import HoleEncoding
from ..rtstruct.input_checks import check_label
from ..rtstruct.model import ExportOptions, RoiType, Structure
from ..rtstruct.profiles import PROFILE_IDS
from ..rtstruct.write import write_rtstruct
from .exit_codes import EXIT_FINDINGS, EXIT_OK
from .output import print_json, terminal_progress


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export", help="write an RTSTRUCT from masks, referencing the original CT",
        description="SEG is a Slicer .seg.nrrd, a folder of binary masks (.nii.gz/.nrrd; file stem = structure "
                    "name) or a label image with a label table (--labels, or TotalSegmentator's embedded table).")
    parser.add_argument("ct_dir", metavar="CT_DIR", help="folder of the CT's DICOM files")
    parser.add_argument("seg", metavar="SEG", help=".seg.nrrd, mask folder or label image")
    parser.add_argument("-o", "--out", required=True, help="RTSTRUCT file to write")
    parser.add_argument("--tps", choices=PROFILE_IDS, default="generic", help="planning-system profile")
    parser.add_argument("--label", default="OARContour", help="Structure Set Label (at most 16 characters)")
    parser.add_argument("--labels", metavar="TABLE", help="label,name CSV for a label image")
    parser.add_argument("--series", metavar="UID", help="CT Series Instance UID when CT_DIR holds several")
    parser.add_argument("--holes", choices=[h.value for h in HoleEncoding], help="hole encoding (default: from the profile)")
    parser.add_argument("--simplify-mm", type=float, default=0.0, help="contour simplification tolerance in mm")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    parser.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    check_label(args.label)  # the writer checks it too; here before any input is read
    holes = HoleEncoding(args.holes) if args.holes else None
    options = ExportOptions(tps=args.tps, structure_set_label=args.label, hole_encoding=holes,
                            simplify_tolerance_mm=max(args.simplify_mm, 0.0), overwrite=args.overwrite)
    ct = load_ct(args.ct_dir, args.series)
    masks, findings = read_masks(args.seg, ct.geometry, args.labels)
    # After the inputs, so a missing or empty input is reported as such rather than as a clash.
    check_output(args.out, [args.ct_dir, args.seg, args.labels], kind=OutputKind.FILE, overwrite=args.overwrite)
    structures = [_structure(m) for m in masks]
    result = write_rtstruct(args.out, ct, structures, options, terminal_progress(not args.json and not args.quiet))
    all_findings = findings + list(result.findings)
    if args.json:
        print_json({"schema": "oarcontour.export/1", **result.to_dict(), "findings": [f.to_dict() for f in all_findings]})
    else:
        _print_text(result.path, structures, all_findings)
    return EXIT_FINDINGS if has_errors(all_findings) else EXIT_OK


def _structure(mask: MaskInput) -> Structure:
    """Type, colour, algorithm, description and code as :func:`~OARContourLib.naming.appearance.appearance`
    decides them (the Slicer Logic asks the same function)."""
    look = appearance(mask.name, mask.tags, color=mask.color)
    return Structure(mask.name, mask.mask, mask.offset_kji, look.color, look.roi_type, look.algorithm,
                     look.description, look.code)


def _print_text(path: str, structures: list[Structure], findings: list[Finding]) -> None:
    types = {s.roi_type for s in structures}
    print(f"Wrote {path}: {len(structures)} structures "
          f"({', '.join(sorted(t.value for t in types))}).")
    for f in findings:
        print(f"{f.severity.value.upper():<7} {f.code}: {f.message}", file=sys.stdout)


__all__ = ["RoiType", "add_parser", "run"]
