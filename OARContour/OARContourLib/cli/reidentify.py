"""``oarcontour reidentify RS.dcm --map MAP --ct ORIGINAL_CT_DIR --out RS.dcm``: back onto the original CT."""

from __future__ import annotations

import argparse
import sys

from ..deid.files import reidentify_file
from ..rtstruct.profiles import PROFILE_IDS
from .exit_codes import EXIT_OK
from .output import print_json


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reidentify", help="map a returned RTSTRUCT back onto the original CT and verify it",
        description="Every UID is mapped back through the map, patient and study come from the original CT, the "
                    "structure set gets new UIDs, and it must pass verification against the original CT "
                    "(exit 0; 2: held with the reason, no output written).")
    parser.add_argument("rtstruct", metavar="RS.dcm", help="the RTSTRUCT the service returned")
    parser.add_argument("--map", required=True, metavar="MAP", help="the map `oarcontour deidentify` wrote")
    parser.add_argument("--ct", required=True, metavar="ORIGINAL_CT_DIR", help="the original (identified) CT")
    parser.add_argument("--out", required=True, metavar="RS.dcm", help="the re-identified RTSTRUCT to write")
    parser.add_argument("--deid-ct", metavar="DEID_CT_DIR",
                        help="the de-identified CT the service contoured: adds the round-trip Dice check")
    parser.add_argument("--uid-root", metavar="ROOT", help="the site's UID root for the new UIDs (default: pydicom's)")
    parser.add_argument("--tps", metavar="PROFILE", default="generic",
                        help=f"verification profile: {', '.join(PROFILE_IDS)} (default: generic)")
    parser.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    result = reidentify_file(args.rtstruct, args.map, args.ct, args.out, args.uid_root, args.tps, args.deid_ct)
    if args.json:
        print_json(result.to_dict())
    else:
        warnings = len(result.report.findings)
        dice = f", round-trip Dice >= {min(result.report.dice.values()):.4f}" if result.report.dice else ""
        sys.stdout.write(f"Re-identified {result.uids_mapped} UIDs onto the original CT; verification: 0 errors, "
                         f"{warnings} warnings{dice}. Written {args.out}.\n")
    return EXIT_OK
