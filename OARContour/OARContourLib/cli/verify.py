"""``oarcontour verify RS.dcm --ct CT_DIR``: check an RTSTRUCT before it goes to a planning system."""

from __future__ import annotations

import argparse
import sys

from ..ct.load import load_ct
from ..errors import InputError
from ..findings import Severity
from ..rtstruct.profiles import PROFILE_IDS
from ..rtstruct.rules import RULES
from ..rtstruct.verify import VerificationReport, verify_rtstruct
from .exit_codes import EXIT_FINDINGS, EXIT_OK
from .output import print_json, terminal_progress


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify", help="check an RTSTRUCT against its CT and a planning-system profile",
        description="Check references, contour geometry, value encoding, names, ROI types and required "
                    "attributes (exit 0: no errors, warnings allowed; 1: errors found; 2: bad input).")
    parser.add_argument("rtstruct", metavar="RS.dcm", nargs="?", help="the RTSTRUCT file to check")
    parser.add_argument("--ct", metavar="CT_DIR", help="folder with the CT series the RTSTRUCT references")
    parser.add_argument("--series", metavar="UID", help="Series Instance UID of the CT when CT_DIR holds several")
    parser.add_argument("--tps", metavar="PROFILE", default="generic",
                        help=f"planning-system profile: {', '.join(PROFILE_IDS)} (default: generic)")
    parser.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    parser.add_argument("--list-rules", action="store_true", help="list the rules and exit")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.list_rules:
        for rule in RULES:
            sys.stdout.write(f"{rule.code:<32} {rule.severity.value:<8} {rule.description}\n")
        return EXIT_OK
    if not args.rtstruct or not args.ct:
        raise InputError("verify needs an RTSTRUCT file and --ct CT_DIR.",
                         hint="Run: oarcontour verify RS.dcm --ct CT_DIR [--tps PROFILE]")
    ct = load_ct(args.ct, args.series, terminal_progress(not args.json and not args.quiet))
    report = verify_rtstruct(args.rtstruct, ct, args.tps)
    if args.json:
        print_json(report.to_dict())
    else:
        print_text(report, args.ct, len(ct.slices))
    return EXIT_FINDINGS if report.has_errors else EXIT_OK


def print_text(report: VerificationReport, ct_dir: str, slices: int) -> None:
    out = sys.stdout
    out.write(f"RTSTRUCT: {report.source}\nCT:       {ct_dir} ({slices} slices)\nProfile:  {report.profile}\n")
    out.write(f"Checked {_count(report.rois_checked, 'ROI')} and {_count(report.contours_checked, 'contour')} "
              f"with {len(report.rules)} rules.\n")
    for severity, title in ((Severity.ERROR, "Errors"), (Severity.WARNING, "Warnings")):
        found = report.of_severity(severity)
        if not found:
            continue
        out.write(f"\n{title} ({len(found)}):\n")
        for finding in found:
            out.write(f"  {finding.code}: {finding.message}\n")
            if finding.hint:
                out.write(f"      -> {finding.hint}\n")
    errors, warnings = len(report.of_severity(Severity.ERROR)), len(report.of_severity(Severity.WARNING))
    verdict = "NOT ready" if errors else "ready"
    out.write(f"\n{_count(errors, 'error')}, {_count(warnings, 'warning')}: {verdict} for the "
              f"{report.profile} profile.\n")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
