"""``oarcontour convert RS.dcm --ct CT_DIR --out DIR``: an RTSTRUCT → one mask per ROI on the CT grid.

Masks are written with SimpleITK in the CT's geometry (``.nii.gz`` or ``.nrrd``, one file per ROI,
plus ``rois.csv``), or as one Slicer ``.seg.nrrd`` (slicerio, imported only here). Everything is
written into a hidden sibling folder and renamed into place at the end, so a failed run leaves
nothing behind. Exit 1 when reading produced error findings (e.g. a Frame of Reference mismatch).
"""

from __future__ import annotations

import argparse
import csv
import logging
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import seg_nrrd
from ..atomic import os_error_at, publish_folder, staging_folder
from ..ct.load import load_ct
from ..ct.model import CTVolume
from ..errors import InputError
from ..file_names import file_stems
from ..mask_files import write_image
from ..mask_grid import mask_image
from ..naming.appearance import appearance
from ..output_paths import OutputKind, check_output
from ..rtstruct.read import RoiMasks, StructureSetContents, read_rtstruct
from ..seg_nrrd import Segment
from .exit_codes import EXIT_FINDINGS, EXIT_OK
from .output import print_json, terminal_progress

logger = logging.getLogger(__name__)

FORMATS = ("nii.gz", "nrrd", "seg.nrrd")
TABLE = "rois.csv"
TABLE_COLUMNS = ("roi_number", "name", "type", "color_r", "color_g", "color_b", "voxels", "file")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "convert", help="rasterise an RTSTRUCT into one mask per ROI on the CT grid",
        description="Read RS (an RTSTRUCT) onto the CT in CT_DIR and write one mask per ROI (file stem = ROI name) "
                    "plus rois.csv, or one Slicer .seg.nrrd. Exit 0: read cleanly or with warnings; 1: error "
                    "findings (e.g. another Frame of Reference); 2: bad input, nothing written.")
    parser.add_argument("rtstruct", metavar="RS", help="RTSTRUCT file")
    parser.add_argument("--ct", required=True, metavar="CT_DIR", help="folder of the CT the structures were drawn on")
    parser.add_argument("-o", "--out", required=True, metavar="DIR", help="output folder (new or empty)")
    parser.add_argument("--format", choices=FORMATS, default="nii.gz", help="mask file format (default nii.gz)")
    parser.add_argument("--series", metavar="UID", help="CT Series Instance UID when CT_DIR holds several")
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty output folder")
    parser.add_argument("--json", action="store_true", help="print one JSON document to stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    rtstruct, ct_dir, out = _checked_paths(args)
    progress = terminal_progress(not args.json and not args.quiet)
    ct = load_ct(ct_dir, args.series, progress)
    contents = read_rtstruct(rtstruct, ct, progress)
    files = write_outputs(out, contents, ct, args.format, args.overwrite)
    if args.json:
        print_json(_document(contents, out, args.format, files))
    else:
        _print_text(contents, out, files)
    logger.info("Converted %d ROIs in %.2f s", len(contents.rois), time.perf_counter() - started)
    return EXIT_FINDINGS if contents.has_errors else EXIT_OK


def _checked_paths(args: argparse.Namespace) -> tuple[Path, Path, Path]:
    """Inputs exist and the output folder may be written; nothing is touched yet."""
    rtstruct = Path(args.rtstruct).expanduser().absolute()
    ct_dir = Path(args.ct).expanduser().absolute()
    if not rtstruct.exists() or rtstruct.is_dir():
        raise InputError(f"RTSTRUCT file not found: {rtstruct}", hint="Check the path of RS.")
    if not ct_dir.is_dir():
        raise InputError(f"CT folder not found: {ct_dir}", hint="Pass the folder of the CT's DICOM files with --ct.")
    out = check_output(args.out, [rtstruct, ct_dir], kind=OutputKind.FOLDER, overwrite=args.overwrite)
    return rtstruct, ct_dir, out


def write_outputs(out: Path, contents: StructureSetContents, ct: CTVolume, fmt: str, overwrite: bool) -> list[str]:
    """Write every ROI into ``out`` atomically; returns each ROI's file name (in ROI order)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_folder(out)
    try:
        if fmt == "seg.nrrd":
            name = f"{file_stems([contents.label or Path(contents.path).stem], '.seg.nrrd')[0]}.seg.nrrd"
            write_seg_nrrd(staging / name, contents, ct)
            files = [name] * len(contents.rois)
        else:
            files = [f"{stem}.{fmt}" for stem in file_stems([roi.name for roi in contents.rois], f".{fmt}")]
            for roi, name in zip(contents.rois, files, strict=True):
                write_image(mask_image(roi.mask, ct.geometry), staging / name)
        write_table(staging / TABLE, contents.rois, files)
        publish_folder(staging, out, overwrite)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise os_error_at(exc, out) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return files


def write_table(path: Path, rois: Sequence[RoiMasks], files: Sequence[str]) -> None:
    """``rois.csv``: one row per ROI (colour columns empty when the RTSTRUCT has none)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(TABLE_COLUMNS)
        for roi, name in zip(rois, files, strict=True):
            color = roi.color or ("", "", "")
            writer.writerow([roi.number, roi.name, roi.roi_type, *color, roi.voxel_count, name])


def write_seg_nrrd(path: Path, contents: StructureSetContents, ct: CTVolume) -> None:
    """One Slicer segmentation: a segment per ROI with its name, colour and ROI number tag."""
    segments = [Segment(roi.name, roi.mask, roi.color or appearance(roi.name).color, {"DicomRtImport.RoiNumber": str(roi.number)},
                        segment_id) for roi, segment_id in zip(contents.rois, file_stems([r.name for r in contents.rois]),
                                                               strict=True)]
    seg_nrrd.write_seg_nrrd(path, segments, ct.geometry.ijk_to_lps())


def _document(contents: StructureSetContents, out: Path, fmt: str, files: Sequence[str]) -> dict[str, Any]:
    summary = contents.to_dict()
    for roi, name in zip(summary["rois"], files, strict=True):
        roi["file"] = name
    return {"schema": "oarcontour.convert/1", "out": str(out), "format": fmt, "table": TABLE, **summary}


def _print_text(contents: StructureSetContents, out: Path, files: Sequence[str]) -> None:
    stdout = sys.stdout
    stdout.write(f"Structure set '{contents.label}': {len(contents.rois)} ROIs written to {out}\n")
    for roi, name in zip(contents.rois, files, strict=True):
        stdout.write(f"  {roi.number:>4} {roi.name:<24} {roi.roi_type or '-':<10} {roi.voxel_count:>10} voxels  {name}\n")
    for found in contents.findings:
        stdout.write(f"{found.severity.value.upper():<7} {found.code}: {found.message}\n")
        if found.hint:
            stdout.write(f"        -> {found.hint}\n")
