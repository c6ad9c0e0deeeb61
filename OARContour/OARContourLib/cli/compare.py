"""``oarcontour compare REFERENCE TEST --ct CT_DIR``: per-structure agreement of two structure sets."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..ct.load import load_ct
from ..findings import has_errors
from ..output_paths import OutputKind, check_output
from ..progress import scaled
from .exit_codes import EXIT_FINDINGS, EXIT_OK
from .output import print_json, terminal_progress

if TYPE_CHECKING:
    from ..compare import ComparisonResult


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare", help="compare two structure sets of one CT: Dice, Hausdorff, surface Dice, added path length",
        description="REFERENCE and TEST are each an RTSTRUCT, a Slicer .seg.nrrd or a folder of masks on the CT in "
                    "CT_DIR. Structures are paired by TG-263 name (Parotid L pairs with Parotid_L); unpaired ones "
                    "are listed. Exit 0: compared; 1: compared, but reading found errors; 2: bad input (e.g. "
                    "another Frame of Reference), nothing written.")
    parser.add_argument("reference", metavar="REFERENCE", help="the reference structure set")
    parser.add_argument("test", metavar="TEST", help="the structure set to compare with it")
    parser.add_argument("--ct", required=True, metavar="CT_DIR", help="folder of the CT both were drawn on")
    parser.add_argument("--tolerance", type=float, default=2.0, metavar="MM",
                        help="surface Dice and added path length tolerance in mm (default 2)")
    parser.add_argument("--map", action="append", default=[], metavar="A=B",
                        help="pair reference structure A with test structure B (repeatable)")
    parser.add_argument("--report", metavar="FILE.html", help="also write an HTML page with both contours drawn")
    parser.add_argument("--series", metavar="UID", help="CT Series Instance UID when CT_DIR holds several")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing report file")
    parser.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..compare import check_same_frame, compare_structure_sets, load_structure_set, parse_mapping

    mapping = parse_mapping(args.map)
    # Checked before the CT is loaded, which takes the longest; never over or inside an input.
    report_path = (check_output(args.report, [args.reference, args.test, args.ct], kind=OutputKind.FILE,
                                overwrite=args.overwrite) if args.report else None)
    progress = terminal_progress(not args.json and not args.quiet)
    ct = load_ct(args.ct, args.series, scaled(progress, 0.0, 0.3))
    reference = load_structure_set(args.reference, ct, scaled(progress, 0.3, 0.5))
    test = load_structure_set(args.test, ct, scaled(progress, 0.5, 0.7))
    check_same_frame(reference, test)
    result = compare_structure_sets(reference, test, ct.geometry, tolerance_mm=args.tolerance, mapping=mapping,
                                    progress=scaled(progress, 0.7, 0.85))
    if report_path is not None:
        from ..compare.page import CompareSources, write_compare_report

        write_compare_report(report_path, result, CompareSources(reference, test, ct), scaled(progress, 0.85, 1.0))
    if args.json:
        print_json(result.to_dict())
    else:
        _print_text(result, report_path)
    return EXIT_FINDINGS if has_errors(list(reference.findings) + list(test.findings)) else EXIT_OK


def _print_text(result: ComparisonResult, report_path: Path | None) -> None:
    out = sys.stdout
    out.write(f"{'Reference':<20} {'Test':<20} {'Dice':>6} {'HD95':>7} {'HDmax':>7} {'MSD':>6} {'sDice':>6} "
              f"{'APL cm':>7} {'Vref cc':>9} {'Vtest cc':>9}\n")
    for pair in result.pairs:
        m = pair.metrics
        out.write(f"{pair.reference[:20]:<20} {pair.test[:20]:<20} {m.dice:6.3f} {_mm(m.hd95_mm):>7} "
                  f"{_mm(m.hd_max_mm):>7} {_mm(m.msd_mm):>6} {_mm(m.surface_dice, 3):>6} {m.apl_mm / 10:7.1f} "
                  f"{m.volume_reference_cc:9.2f} {m.volume_test_cc:9.2f}\n")
    out.write(f"Tolerance {result.tolerance_mm:g} mm. Only in the reference: {', '.join(result.unpaired_reference) or 'none'}. "
              f"Only in the test: {', '.join(result.unpaired_test) or 'none'}.\n")
    if report_path is not None:
        out.write(f"Wrote {report_path}\n")


def _mm(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
