"""``oarcontour deidentify CT_DIR --out DIR --map MAP``: a CT made fit to leave the hospital."""

from __future__ import annotations

import argparse
import sys

from ..deid.files import deidentify_folder
from .exit_codes import EXIT_OK
from .output import print_json


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "deidentify", help="de-identify an axial CT series for an outside contouring service",
        description="PS3.15 Annex E Basic Profile (dicognito) with Retain Patient Characteristics, Retain Device "
                    "Identity and Modified Dates; every replaced UID and value goes to the map, which stays here "
                    "(exit 0; 2: bad input, nothing written).")
    parser.add_argument("ct_dir", metavar="CT_DIR", help="folder with the axial CT series")
    parser.add_argument("--out", required=True, metavar="DIR", help="new (or empty) folder for the de-identified CT")
    parser.add_argument("--map", required=True, metavar="MAP",
                        help="SQLite map file kept at the hospital; created (0600) if missing; not inside --out")
    parser.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    report = deidentify_folder(args.ct_dir, args.out, args.map)
    if args.json:
        print_json(report.to_dict())
    else:
        sys.stdout.write(f"De-identified {report.instances} CT instances ({report.series} series) into "
                         f"{report.out_dir}; {report.skipped_files} other files not copied.\n")
    return EXIT_OK
