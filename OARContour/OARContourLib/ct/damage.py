"""Damaged slices: values no grid can be built from, and pixel data shorter than the header declares.

Checked from the headers alone, before any pixel is decoded or any array is allocated, so a file
that declares a 65535×65535 matrix but holds 8 kB is reported, not loaded into memory. Each kind
of damage has its own problem code; all of them stop loading (see ``GRID_BREAKING``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pydicom.uid import UID

from ..findings import Severity
from .problems import ProblemCode, ProblemList
from .scan import FileHeader

#: Bytes of the Pixel Data element's own tag, VR and length: implicit VR, explicit VR (OB/OW).
_ELEMENT_HEADER_IMPLICIT = 8
_ELEMENT_HEADER_EXPLICIT = 12
#: Least encapsulated pixel data worth decoding (Basic Offset Table item plus one fragment header).
_MIN_ENCAPSULATED = 16


def check_damage(headers: Sequence[FileHeader], uid: str, problems: ProblemList,
                 series_headers: Sequence[FileHeader] = ()) -> bool:
    """Report non-finite or zero spacing and positions, truncated pixel data (or headers cut before
    the image attributes) and repeated SOP Instance UIDs; True when the series is free of them.

    ``headers`` are the series' image slices, ``series_headers`` all its files.
    """
    before = len(problems.items)
    _check_cut_headers(headers, series_headers, uid, problems)
    _check_spacing_values(headers, uid, problems)
    _check_position_values(headers, uid, problems)
    _check_pixel_bytes(headers, uid, problems)
    _check_duplicate_sop_uids(headers, uid, problems)
    return len(problems.items) == before


def _names(headers: Sequence[FileHeader]) -> list[str]:
    return [str(h.path) for h in headers]


def _finite(values: tuple[float, ...] | None) -> bool:
    return values is not None and all(math.isfinite(v) for v in values)


def _check_spacing_values(headers: Sequence[FileHeader], uid: str, problems: ProblemList) -> None:
    bad = [h for h in headers if (s := h.floats("PixelSpacing")) is not None
           and (len(s) != 2 or not _finite(s) or min(s) <= 0)]
    if bad:
        shown = bad[0].text("PixelSpacing") or "?"
        problems.add(Severity.ERROR, ProblemCode.INVALID_PIXEL_SPACING,
                     f"PixelSpacing is zero, negative or not a number in {len(bad)} slices (e.g. '{shown}' in "
                     f"{bad[0].path.name}): voxel sizes and every volume and margin would be wrong.",
                     files=_names(bad), series_uid=uid,
                     hint="Export the series again from the scanner or PACS; an anonymiser may have blanked it.")


def _check_position_values(headers: Sequence[FileHeader], uid: str, problems: ProblemList) -> None:
    bad = [h for h in headers if not _position_ok(h)]
    if bad:
        problems.add(Severity.ERROR, ProblemCode.INVALID_POSITION,
                     f"ImagePositionPatient or ImageOrientationPatient is not a finite position or a pair of "
                     f"unit direction vectors in {len(bad)} slices (e.g. {bad[0].path.name}): the slices cannot "
                     "be placed in patient space.", files=_names(bad), series_uid=uid,
                     hint="Export the series again; these attributes must hold real numbers.")


def _position_ok(header: FileHeader) -> bool:
    position, orientation = header.floats("ImagePositionPatient"), header.floats("ImageOrientationPatient")
    if position is None or orientation is None:
        return True  # a missing attribute is reported as INCONSISTENT_GEOMETRY
    if len(position) != 3 or len(orientation) != 6 or not _finite(position) or not _finite(orientation):
        return False
    row, column = np.asarray(orientation[:3]), np.asarray(orientation[3:])
    return bool(np.linalg.norm(row) > 0.5 and np.linalg.norm(column) > 0.5
                and np.linalg.norm(np.cross(row, column)) > 0.5)


def declared_pixel_bytes(header: FileHeader) -> int:
    """Bytes of uncompressed pixel data the header declares (rows × columns × samples × bits × frames)."""
    ds = header.dataset
    bits = int(ds.get("BitsAllocated", 16) or 16)
    count = int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1) or 1) * int(ds.get("NumberOfFrames", 1) or 1)
    return (count * bits + 7) // 8


def _pixel_shortfall(header: FileHeader) -> str | None:
    """Why the pixel data cannot be complete, or None."""
    if header.pixel_bytes is None:
        return None
    syntax = header.transfer_syntax_uid
    if syntax and UID(syntax).is_compressed:
        return None if header.pixel_bytes >= _MIN_ENCAPSULATED else "no compressed pixel data"
    if int(header.dataset.Rows or 0) <= 0 or int(header.dataset.Columns or 0) <= 0:
        return "Rows or Columns is 0"
    implicit = syntax in ("", "1.2.840.10008.1.2")
    present = header.pixel_bytes - (_ELEMENT_HEADER_IMPLICIT if implicit else _ELEMENT_HEADER_EXPLICIT)
    declared = declared_pixel_bytes(header)
    if present < declared:
        return f"{max(present, 0)} bytes of pixel data for a declared {declared} bytes"
    return None


def _check_pixel_bytes(headers: Sequence[FileHeader], uid: str, problems: ProblemList) -> None:
    short = [(h, reason) for h in headers if (reason := _pixel_shortfall(h)) is not None]
    if short:
        first, reason = short[0]
        problems.add(Severity.ERROR, ProblemCode.TRUNCATED_PIXEL_DATA,
                     f"{len(short)} slices have less pixel data than their header declares (e.g. {first.path.name}: "
                     f"{reason}): the files are truncated.", files=_names([h for h, _ in short]), series_uid=uid,
                     hint="Copy or export the series again; a transfer was cut off.")


def _check_cut_headers(headers: Sequence[FileHeader], series_headers: Sequence[FileHeader], uid: str,
                       problems: ProblemList) -> None:
    """Files of an image SOP class that lack the image attributes: cut off inside their header, so they
    would silently drop out of the series (unnoticed at its first or last slice)."""
    classes = {h.text("SOPClassUID") for h in headers} - {""}
    cut = [h for h in series_headers if not h.is_image and h.text("SOPClassUID") in classes
           and int(h.dataset.get("NumberOfFrames", 1) or 1) == 1]
    if cut:
        problems.add(Severity.ERROR, ProblemCode.TRUNCATED_PIXEL_DATA,
                     f"{len(cut)} files of this image series lack Rows, Columns or ImagePositionPatient (e.g. "
                     f"{cut[0].path.name}): they were cut off inside their header.",
                     files=_names(cut), series_uid=uid, hint="Copy or export the series again; a transfer was cut off.")


def _check_duplicate_sop_uids(headers: Sequence[FileHeader], uid: str, problems: ProblemList) -> None:
    seen: dict[str, FileHeader] = {}
    duplicates = [h for h in headers if h.text("SOPInstanceUID")
                  and seen.setdefault(h.text("SOPInstanceUID"), h) is not h]
    if duplicates:
        problems.add(Severity.ERROR, ProblemCode.DUPLICATE_SOP_INSTANCE_UID,
                     f"{len(duplicates)} files repeat the SOP Instance UID of another slice (e.g. "
                     f"{duplicates[0].path.name}): references to them would be ambiguous.",
                     files=_names(duplicates), series_uid=uid, hint="Remove the copied files from the folder.")
