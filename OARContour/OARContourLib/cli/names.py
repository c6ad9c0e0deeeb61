"""``oarcontour names suggest|check|rename``: TG-263 structure names.

* ``names suggest NAME...``: suggestions with confidence and reason, best first (``--json``: one
  JSON object per line, schema ``oarcontour.names-suggest/1``). Exit 0.
* ``names check FILE``: validate every name of an RTSTRUCT, mask folder, label image or
  ``.seg.nrrd``, with a suggestion for each name that is not TG-263. Exit 1 when a name has an
  error-level finding (it would block an export), else 0.
* ``names rename RS.dcm --out RS2.dcm``: write a copy with TG-263 names, changing nothing else.
  Exit 0 when the file was written, also when some names were left for review (they are listed,
  with the reason, under ``left_for_review``); 2 for bad input, nothing written.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..findings import Finding, Severity, has_errors
from ..naming.overrides import Overrides, load_overrides
from ..naming.rename import RenameReport, rename_rtstruct
from ..naming.resolve import AUTO_APPLY_CONFIDENCE, Suggestion, suggest
from ..naming.sources import structure_names
from ..naming.tables import load_tables
from ..naming.validate import INFORMATIONAL, check_unique, validate_name
from ..output_paths import OutputKind, check_output
from ..rtstruct.profiles import PROFILE_IDS, load_profile
from .exit_codes import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK
from .output import print_json

SUGGEST_SCHEMA = "oarcontour.names-suggest/1"
CHECK_SCHEMA = "oarcontour.names-check/1"
RENAME_SCHEMA = "oarcontour.names-rename/1"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("names", help="suggest, check and apply TG-263 structure names",
                                   description="TG-263 structure names: suggest names for clinical ones, check the "
                                               "names of a file, rename the ROIs of an RTSTRUCT.")
    parser.set_defaults(run=_usage(parser))
    commands = parser.add_subparsers(dest="names_command", metavar="SUBCOMMAND")
    _add_suggest(commands)
    _add_check(commands)
    _add_rename(commands)


def _add_suggest(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("suggest", help="TG-263 names for clinical structure names",
                                 description="Suggest TG-263 names, best first, with a confidence (0-1; at or above "
                                             f"{AUTO_APPLY_CONFIDENCE} a name may be applied without review).")
    parser.add_argument("names", metavar="NAME", nargs="+", help="clinical structure names (quote names with spaces)")
    parser.add_argument("--map", metavar="OVERRIDES.csv", help="institution table local_name,tg263_name[,...]")
    parser.add_argument("--limit", type=int, default=5, help="suggestions per name (default: 5)")
    parser.add_argument("--reverse-order", action="store_true", help="reverse-order names (L_Parotid)")
    parser.add_argument("--json", action="store_true", help="one JSON object per input line")
    parser.set_defaults(run=run_suggest)


def _add_check(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("check", help="check the structure names of a file",
                                 description="Check every structure name of an RTSTRUCT, a folder of masks, a label "
                                             "image or a .seg.nrrd against TG-263 and a planning-system profile "
                                             "(exit 0: no errors; 1: a name would block an export; 2: bad input).")
    parser.add_argument("source", metavar="RS.dcm|SEG", help="RTSTRUCT, mask folder, label image or .seg.nrrd")
    parser.add_argument("--tps", metavar="PROFILE", help=f"planning-system profile: {', '.join(PROFILE_IDS)}")
    parser.add_argument("--labels", metavar="TABLE", help="label,name CSV for a label image")
    parser.add_argument("--map", metavar="OVERRIDES.csv", help="institution table used for the suggestions")
    parser.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    parser.set_defaults(run=run_check)


def _add_rename(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("rename", help="write a copy of an RTSTRUCT with TG-263 names",
                                 description="Rename the ROIs of an RTSTRUCT to TG-263 names (ROI Name and ROI "
                                             "Observation Label; type and colour only where missing), changing "
                                             "nothing else. Names below the confidence, that would change or guess a "
                                             "side, or would duplicate another name are left for review (exit 0 when "
                                             "written; 2: bad input, nothing written).")
    parser.add_argument("rtstruct", metavar="RS.dcm", help="the RTSTRUCT (never modified)")
    parser.add_argument("-o", "--out", required=True, metavar="RS2.dcm", help="the RTSTRUCT to write")
    parser.add_argument("--map", metavar="OVERRIDES.csv", help="institution table local_name,tg263_name[,...]")
    parser.add_argument("--min-confidence", type=float, default=AUTO_APPLY_CONFIDENCE,
                        help=f"apply suggestions at or above this ({AUTO_APPLY_CONFIDENCE}-1; "
                             f"default {AUTO_APPLY_CONFIDENCE})")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    parser.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    parser.set_defaults(run=run_rename)


def _usage(parser: argparse.ArgumentParser) -> Any:
    def run(args: argparse.Namespace) -> int:
        parser.print_usage(sys.stderr)
        sys.stderr.write("oarcontour names: error: a subcommand is required (suggest, check, rename)\n")
        return EXIT_BAD_INPUT

    return run


def _overrides(path: str | None) -> Overrides | None:
    return load_overrides(path) if path else None


def run_suggest(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise InputError(f"--limit must be at least 1 (got {args.limit}).", hint="Use --limit 5.")
    tables, overrides = load_tables(), _overrides(args.map)
    results = [(name, suggest(name, tables, overrides, args.limit, args.reverse_order)) for name in args.names]
    if args.json:
        for name, found in results:
            sys.stdout.write(json.dumps({"schema": SUGGEST_SCHEMA, "input": name,
                                         "suggestions": [s.to_dict() for s in found]}) + "\n")
        return EXIT_OK
    width = max(12, *(len(name) for name, _ in results)) + 2
    sys.stdout.write(f"{'INPUT':<{width}}{'SUGGESTION':<18}{'CONF':>5}  AUTO  REASON\n")
    for name, found in results:
        if not found:
            sys.stdout.write(f"{name:<{width}}{'-':<18}{'':>5}  {'':4}  no TG-263 name found; name it by hand\n")
        for index, item in enumerate(found):
            shown = name if index == 0 else ""
            sys.stdout.write(f"{shown:<{width}}{item.name:<18}{item.confidence:>5.2f}  "
                             f"{'yes' if item.auto_apply else 'no':<4}  {item.reason}\n")
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    tables, overrides = load_tables(), _overrides(args.map)
    profile = load_profile(args.tps) if args.tps else None
    kind, structures = structure_names(args.source, args.labels)
    checks = []
    for structure in structures:
        found = validate_name(structure.name, tables, profile)
        valid = all(f.code in INFORMATIONAL for f in found)
        proposals = () if valid else tuple(s for s in suggest(structure.name, tables, overrides, limit=3)
                                           if s.name != structure.name)
        checks.append(NameCheck(structure.name, structure.roi_number, valid, tuple(found), proposals))
    unique = check_unique([s.name for s in structures if s.name])
    findings = [f for c in checks for f in c.findings] + unique
    if args.json:
        counts = {s.value: sum(f.severity is s for f in findings) for s in (Severity.ERROR, Severity.WARNING)}
        print_json({"schema": CHECK_SCHEMA, "source": args.source, "kind": kind.value,
                    "profile": profile.id if profile else None, "names": [c.to_dict() for c in checks],
                    "findings": [f.to_dict() for f in findings], "counts": counts, "has_errors": has_errors(findings)})
    else:
        _print_check(args.source, kind.value, checks, unique, findings)
    return EXIT_FINDINGS if has_errors(findings) else EXIT_OK


@dataclass(frozen=True)
class NameCheck:
    """One checked name: its findings and, when it is not TG-263, suggestions."""

    name: str
    roi_number: int | None
    valid: bool
    findings: tuple[Finding, ...]
    suggestions: tuple[Suggestion, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "roi_number": self.roi_number, "valid": self.valid,
                "findings": [f.to_dict() for f in self.findings], "suggestions": [s.to_dict() for s in self.suggestions]}


def _print_check(source: str, kind: str, checks: list[NameCheck], unique: list[Finding],
                 findings: list[Finding]) -> None:
    out = sys.stdout
    out.write(f"{source} ({kind}): {len(checks)} names\n")
    for check in checks:
        out.write(f"  {'ok ' if check.valid else '!! '}{check.name!r}\n")
        for finding in check.findings:
            out.write(f"       {finding.severity.value.upper():<7} {finding.code}: {finding.message}\n")
        if check.suggestions:
            best = check.suggestions[0]
            auto = "" if best.auto_apply else " (review)"
            out.write(f"       -> suggest {best.name} ({best.confidence:.2f}{auto}: {best.reason})\n")
        elif not check.valid:
            out.write("       -> no suggestion; name it by hand\n")
    for finding in unique:
        out.write(f"  {finding.severity.value.upper():<7} {finding.code}: {finding.message}\n")
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = sum(f.severity is Severity.WARNING for f in findings)
    out.write(f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}.\n")


def run_rename(args: argparse.Namespace) -> int:
    check_output(args.out, [args.rtstruct, args.map], kind=OutputKind.FILE, overwrite=args.overwrite)
    report = rename_rtstruct(args.rtstruct, args.out, tables=load_tables(), overrides=_overrides(args.map),
                             min_confidence=args.min_confidence, overwrite=args.overwrite)
    if args.json:
        print_json({"schema": RENAME_SCHEMA, **report.to_dict()})
    else:
        _print_rename(report)
    return EXIT_OK


def _print_rename(report: RenameReport) -> None:
    out = sys.stdout
    out.write(f"Wrote {report.output} ({len(report.renamed)} renamed, {len(report.unchanged)} already named, "
              f"{len(report.left_for_review)} left for review).\n")
    for roi in report.renamed:
        extras = [f"type {roi.roi_type_set}" if roi.roi_type_set else "", "colour" if roi.color_set else ""]
        filled = f" (set {' and '.join(e for e in extras if e)})" if any(extras) else ""
        out.write(f"  renamed  ROI {roi.roi_number}: {roi.old_name!r} -> {roi.new_name} "
                  f"({roi.confidence:.2f}, {roi.reason}){filled}\n")
    for item in report.left_for_review:
        out.write(f"  REVIEW   ROI {item.roi_number}: {item.name!r}: {item.reason}\n")
