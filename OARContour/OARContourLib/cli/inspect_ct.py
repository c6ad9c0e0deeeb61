"""``oarcontour inspect CT_DIR``: list the series in a folder and every problem found."""

from __future__ import annotations

import argparse
import sys

from ..ct.inspection import Inspection, inspect_folder
from .exit_codes import EXIT_FINDINGS, EXIT_OK
from .output import print_json, terminal_progress


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "inspect", help="list the DICOM series in a folder and check the CT",
        description="Read every file under CT_DIR, group by series, choose the CT and report problems "
                    "(exit 0: no error in the selected series; 1: errors; 2: bad input).")
    parser.add_argument("ct_dir", metavar="CT_DIR", help="folder of DICOM files (searched recursively)")
    parser.add_argument("--series", metavar="UID", help="Series Instance UID to select instead of the largest CT")
    parser.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    inspection = inspect_folder(args.ct_dir, args.series, terminal_progress(not args.json and not args.quiet))
    if args.json:
        print_json(inspection.to_dict())
    else:
        print_text(inspection)
    return EXIT_FINDINGS if inspection.has_errors else EXIT_OK


def print_text(inspection: Inspection) -> None:
    out = sys.stdout
    out.write(f"Folder: {inspection.folder}\n")
    for s in inspection.series:
        mark = "*" if s.series_uid == inspection.selected else " "
        size = f"{s.rows}x{s.columns}" if s.rows else "-"
        spacing = "x".join(f"{v:.3g}" for v in s.spacing) + " mm" if s.spacing else "-"
        out.write(f" {mark} {s.modality:<8} {s.slices:>4} slices {size:>9} {spacing:<20} "
                  f"{s.patient_position or '-':<4} {s.series_uid or '(empty UID)'}  {s.series_description}\n")
    if inspection.selected is None:
        out.write("Selected: none\n")
    for p in inspection.problems:
        where = "" if p.series_uid in (None, inspection.selected) else f" (series {p.series_uid})"
        out.write(f"{p.severity.value.upper():<7} {p.code.value}: {p.message}{where}\n")
        if p.hint:
            out.write(f"        -> {p.hint}\n")
    verdict = "has errors" if inspection.has_errors else "OK"
    out.write(f"Selected series {verdict}.\n" if inspection.selected is not None else "")
