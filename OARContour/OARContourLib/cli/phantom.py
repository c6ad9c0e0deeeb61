"""``oarcontour phantom --out DIR``: write the embedded anatomical phantom CT and its true masks."""

from __future__ import annotations

import argparse

from ..errors import InputError
from ..output_paths import OutputKind, check_output
from .exit_codes import EXIT_OK
from .output import print_json, terminal_progress

#: Fewest rows and columns the phantom can be drawn on (the core's own limit).
MIN_SIZE = 8


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "phantom", help="write the anatomical phantom CT series with ground-truth masks",
        description="Write a synthetic CT series (DICOM) and one ground-truth mask per structure (NIfTI).")
    parser.add_argument("-o", "--out", required=True, help="output folder (must not exist or be empty)")
    parser.add_argument("--variant", choices=["thorax", "headneck"], default="thorax")
    parser.add_argument("--patient-position", choices=["HFS", "HFP", "FFS", "FFP"], default="HFS")
    parser.add_argument("--size", type=int, default=512, help="rows and columns (default 512)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty output folder")
    parser.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..phantom import write_phantom  # heavy (scipy.interpolate): only when this command runs

    if args.size < MIN_SIZE:
        raise InputError(f"--size must be at least {MIN_SIZE} (got {args.size}).", hint="Use e.g. --size 128 or 512.")
    check_output(args.out, kind=OutputKind.FOLDER, overwrite=args.overwrite)
    result = write_phantom(
        args.out, variant=args.variant, rows=args.size, columns=args.size,
        pixel_spacing_mm=0.977 * 512 / args.size, patient_position=args.patient_position,
        seed=args.seed, overwrite=args.overwrite, progress=terminal_progress(not args.json and not args.quiet),
    )
    if args.json:
        print_json({"schema": "oarcontour.phantom/1", **result.to_dict()})
    else:
        print(f"CT series:      {result.ct_dir}")
        print(f"True masks:     {result.truth_dir}")
        print(f"Structures:     {', '.join(result.structures)}")
    return EXIT_OK
