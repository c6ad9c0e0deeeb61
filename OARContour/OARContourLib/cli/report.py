"""``oarcontour report RS.dcm --ct CT_DIR --out report.html``: a self-contained HTML page to review contours."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..naming.tables import load_tables
from ..output_paths import OutputKind, check_output
from ..rtstruct.profiles import PROFILE_IDS
from .exit_codes import EXIT_FINDINGS, EXIT_OK
from .output import print_json, terminal_progress

if TYPE_CHECKING:
    from ..report import ReportResult


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="write an HTML review page: structure table, findings and contour overlays",
        description="Write one self-contained HTML page (images embedded, no network) with a table of the "
                    "structures and their findings and contour outlines on axial, coronal and sagittal CT views "
                    "(exit 0: written, no errors; 1: written, error findings listed; 2: bad input, nothing written).")
    parser.add_argument("rtstruct", metavar="RS.dcm", help="the RTSTRUCT file to review")
    parser.add_argument("--ct", metavar="CT_DIR", required=True, help="folder with the CT series the RTSTRUCT references")
    parser.add_argument("-o", "--out", metavar="REPORT.html", required=True, help="HTML file to write")
    parser.add_argument("--tps", metavar="PROFILE", choices=PROFILE_IDS, default="generic",
                        help=f"planning-system profile: {', '.join(PROFILE_IDS)} (default: generic)")
    parser.add_argument("--template", metavar="NAME", help="site template whose structures must be present, e.g. "
                        "Thorax (default: none)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    parser.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..report import build_report  # Pillow and the renderers: only when this command runs

    check_output(args.out, [args.rtstruct, args.ct], kind=OutputKind.FILE, overwrite=args.overwrite)
    if args.template is not None:
        _check_template(args.template)
    result = build_report(args.rtstruct, args.ct, args.out, tps=args.tps, template=args.template,
                          overwrite=args.overwrite, progress=terminal_progress(not args.json and not args.quiet))
    if args.json:
        print_json(result.to_dict())
    else:
        _print_text(result)
    return EXIT_FINDINGS if result.has_errors else EXIT_OK


def _check_template(template: str) -> None:
    """Refuse an unknown template before the CT is loaded, which takes the longest."""
    load_tables().require_template(template)


def _print_text(result: ReportResult) -> None:
    sys.stdout.write(f"Wrote {result.path} ({result.bytes / 1e6:.2f} MB): {result.structure_count} structures, "
                     f"{result.findings_count} findings ({result.error_count} errors).\n")
