"""``oarcontour rules``: list every check (CT problems, writer pre-checks, verify rules, QA rules)."""

from __future__ import annotations

import argparse
import sys

from ..check_catalog import FAMILIES, all_checks
from .exit_codes import EXIT_OK
from .output import print_json


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rules", help="list every check OARContour runs",
        description="Lists the checks of a CT folder (ct), the RTSTRUCT writer (write), the verifier (verify) "
                    "and QA (qa): code, severity and what each checks.")
    parser.add_argument("--family", choices=FAMILIES, help="only the checks of one family")
    parser.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    entries = [e for e in all_checks() if args.family in (None, e.family)]
    if args.json:
        print_json({"schema": "oarcontour.rules/1", "checks": [e.to_dict() for e in entries]})
        return EXIT_OK
    for entry in entries:
        sys.stdout.write(f"{entry.family:<7} {entry.code:<32} {entry.severity.value:<8} {entry.description}\n")
    return EXIT_OK
