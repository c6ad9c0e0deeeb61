"""``oarcontour export CT_DIR SEG --out RS.dcm``: masks → RTSTRUCT referencing the original CT."""

from __future__ import annotations

import argparse
import sys

from .. import segment_tags
from ..ct.load import load_ct
from ..findings import Finding, has_errors
from ..mask_files import MaskInput, read_masks
from ..naming.tables import load_tables
from ..output_paths import OutputKind, check_output
from ..rtstruct.model import ExportOptions, RoiType, Structure
from ..rtstruct.profiles import PROFILE_IDS
from ..rtstruct.roi_types import default_roi_type
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
    parser.add_argument("--holes", choices=["keyhole", "nested"], help="hole encoding (default: from the profile)")
    parser.add_argument("--simplify-mm", type=float, default=0.0, help="contour simplification tolerance in mm")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    parser.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    options = ExportOptions(tps=args.tps, structure_set_label=_label(args.label), hole_encoding=args.holes,
                            simplify_tolerance_mm=max(args.simplify_mm, 0.0), overwrite=args.overwrite)
    ct = load_ct(args.ct_dir, args.series)
    masks, findings = read_masks(args.seg, ct.geometry, args.labels)
    # After the inputs, so a missing or empty input is reported as such rather than as a clash.
    check_output(args.out, [args.ct_dir, args.seg, args.labels], kind=OutputKind.FILE, overwrite=args.overwrite)
    structures = [_structure(m, i) for i, m in enumerate(masks)]
    result = write_rtstruct(args.out, ct, structures, options, terminal_progress(not args.json and not args.quiet))
    all_findings = findings + list(result.findings)
    if args.json:
        print_json({"schema": "oarcontour.export/1", **result.to_dict(), "findings": [f.to_dict() for f in all_findings]})
    else:
        _print_text(result.path, structures, all_findings)
    return EXIT_FINDINGS if has_errors(all_findings) else EXIT_OK


def _structure(mask: MaskInput, index: int) -> Structure:
    """Type, algorithm and description from the segment's tags (``.seg.nrrd``), else the naming
    tables' defaults when the name is known, else rule-based defaults; likewise the colour."""
    default = load_tables().default_for(mask.name)
    color = mask.color or (default.color if default else _default_color(index))
    roi_type = segment_tags.roi_type_from(mask.tags, default.roi_type if default else default_roi_type(mask.name))
    return Structure(mask.name, mask.mask, mask.offset_kji, color, roi_type,
                     segment_tags.algorithm_from(mask.tags), segment_tags.description_from(mask.tags))


def _label(label: str) -> str:
    from ..errors import InputError

    if not label or len(label) > 16:
        raise InputError(f"Structure Set Label '{label}' must have 1–16 characters.", hint="Eclipse rejects longer labels.")
    return label


def _default_color(index: int) -> tuple[int, int, int]:
    """A fixed palette (deterministic output; never colours from hash(name))."""
    palette = ((230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
               (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (220, 190, 255))
    return palette[index % len(palette)]


def _print_text(path: str, structures: list[Structure], findings: list[Finding]) -> None:
    types = {s.roi_type for s in structures}
    print(f"Wrote {path}: {len(structures)} structures "
          f"({', '.join(sorted(t.value for t in types))}).")
    for f in findings:
        print(f"{f.severity.value.upper():<7} {f.code}: {f.message}", file=sys.stdout)


__all__ = ["RoiType", "add_parser", "run"]
