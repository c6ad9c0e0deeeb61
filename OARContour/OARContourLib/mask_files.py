"""Read structure masks from files onto the CT grid: a folder of masks, a label image, a .seg.nrrd.

Orientation always comes from each file's own geometry (NIfTI/NRRD direction), never from its
voxel order, so LAS, RAS or LPS files all land where they were drawn. Masks on another grid are
resampled (nearest neighbour) with a warning; parts outside the CT are clipped with a warning.
Masks are returned cropped to their bounding box to keep 100+ structures cheap.
"""

from __future__ import annotations

import csv
import gzip
import logging
import re
import struct
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from .ct.model import ImageGeometry
from .ct.scan import open_regular
from .errors import InputError
from .file_names import clean_name
from .findings import Finding, Severity
from .image_files import read_image
from .mask_block import crop
from .mask_grid import MaskInput, on_ct_grid, same_grid
from .seg_nrrd import read_seg_nrrd

logger = logging.getLogger(__name__)

MASK_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd")


def read_masks(source: str | Path, geometry: ImageGeometry, labels: str | Path | None = None,
               ) -> tuple[list[MaskInput], list[Finding]]:
    """Masks from a folder of binary mask files, a label image, or a Slicer ``.seg.nrrd``.

    Raises
    ------
    InputError
        Missing path, no mask files, an unreadable file, or a label image without names.
    """
    path = Path(source).expanduser()
    if not path.exists():
        raise InputError(f"Segmentation not found: {path}", hint="Pass a .seg.nrrd, a label image or a folder of masks.")
    if path.is_dir():
        return _read_folder(path, geometry)
    _require_regular(path)
    if path.name.lower().endswith(".seg.nrrd"):
        return read_seg_nrrd(path, geometry)
    return _read_label_image(path, geometry, labels)


def _read_folder(folder: Path, geometry: ImageGeometry) -> tuple[list[MaskInput], list[Finding]]:
    candidates = sorted(p for p in folder.iterdir() if p.name.lower().endswith(MASK_SUFFIXES))
    files = [p for p in candidates if p.is_file()]
    skipped = [_skipped_finding(p) for p in candidates if not p.is_file()]
    if not files:
        raise InputError(f"No mask files ({', '.join(MASK_SUFFIXES)}) in {folder}.",
                         hint="Put one binary mask per structure in the folder; the file name is the structure name.")
    # Decompression dominates; SimpleITK releases the GIL while reading, so two threads use both cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda p: _binary_file(p, geometry), files))
    masks = [m for m, _ in results]
    return masks, skipped + [f for _, found in results for f in found]


def _require_regular(path: Path) -> None:
    try:
        open_regular(path).close()
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc}", hint="Pass a regular file (not a pipe or a device).") from exc


def _skipped_finding(path: Path) -> Finding:
    """A FIFO, device or folder named like a mask: never opened (reading it could block), but reported."""
    return Finding("UNREADABLE_FILE", Severity.WARNING, f"{clean_name(path.name)} is not a regular file; skipped.",
                   hint="Remove it from the mask folder if it should not be there.")


def _binary_file(path: Path, geometry: ImageGeometry) -> tuple[MaskInput, list[Finding]]:
    name = structure_name_from_file(path)
    named = _name_findings(path, name)
    image = read_image(path)
    if same_grid(image, geometry) and image.GetNumberOfComponentsPerPixel() == 1:
        # Fast path (the usual case): crop on a view of the file's voxels, copy only the block.
        block, offset = crop(sitk.GetArrayViewFromImage(image))
        return MaskInput(name, block.astype(bool), offset), named
    array, findings = on_ct_grid(image, geometry, name)
    block, offset = crop(array != 0)
    return MaskInput(name, block, offset), named + findings


def structure_name_from_file(path: Path) -> str:
    """The file name without its mask suffix, with undecodable bytes and control characters as ``_``."""
    lower = path.name.lower()
    suffix = next(s for s in MASK_SUFFIXES if lower.endswith(s))
    return clean_name(path.name[: -len(suffix)]) or "ROI"


def _name_findings(path: Path, name: str) -> list[Finding]:
    raw = path.name[: -len(next(s for s in MASK_SUFFIXES if path.name.lower().endswith(s)))]
    if raw == name:
        return []
    return [Finding("MASK_NAME_CLEANED", Severity.WARNING,
                    f"The file name {raw!r} holds characters that are not text (undecodable bytes or control "
                    f"characters); the structure is named '{name}'.", roi_name=name,
                    hint="Rename the mask file to the structure's name.")]


def write_image(image: sitk.Image, path: Path) -> None:
    """Write ``image`` compressed; a failure (disk full, permission) is an :class:`InputError` naming the file."""
    try:
        sitk.WriteImage(image, str(path), True)
    except RuntimeError as exc:
        raise InputError(f"Cannot write {path}: {_first_line(exc)}",
                         hint="Check the free space and permissions of the output folder.") from exc


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (lines[-1] if lines else type(exc).__name__)[:200]


def _read_label_image(path: Path, geometry: ImageGeometry, labels: str | Path | None,
                      ) -> tuple[list[MaskInput], list[Finding]]:
    image = read_image(path)
    array, findings = on_ct_grid(sitk.Cast(image, sitk.sitkUInt16) if image.GetPixelID() not in
                                 (sitk.sitkUInt8, sitk.sitkUInt16) else image, geometry, path.name)
    from scipy import ndimage

    boxes = ndimage.find_objects(array)  # one pass: which labels are present, and where
    values = [value for value, box in enumerate(boxes, start=1) if box is not None]
    names = label_names(path, labels) if len(values) > 1 or labels else {1: structure_name_from_file(path)}
    missing = [v for v in values if v not in names]
    if missing:
        raise InputError(f"{path.name}: labels {missing[:10]} have no name in the label table.",
                         hint="Pass --labels TABLE.csv with columns label,name (TotalSegmentator's label map works).")
    return _split_labels(array, boxes, values, names), findings


def _split_labels(array: np.ndarray, boxes: list, values: Iterable[int], names: dict[int, str]) -> list[MaskInput]:
    masks = []
    for value in values:
        box = boxes[value - 1]
        block = array[box] == value
        offset = (int(box[0].start), int(box[1].start), int(box[2].start))
        masks.append(MaskInput(names[value], np.ascontiguousarray(block), offset))
    return masks


def label_names(path: Path, table: str | Path | None) -> dict[int, str]:
    """Label value → name, from a CSV/TSV table or from TotalSegmentator's NIfTI header extension."""
    if table is not None:
        return _names_from_table(Path(table))
    names = _names_from_nifti_extension(path)
    if not names:
        raise InputError(f"{path.name} is a label image without label names.",
                         hint="Pass --labels TABLE.csv with columns label,name.")
    return names


def _names_from_table(table: Path) -> dict[int, str]:
    if not table.is_file():
        raise InputError(f"Label table not found: {table}", hint="Pass a CSV with columns label,name.")
    lines = [line for line in table_text(table).replace("\x00", "").splitlines() if line.strip()]
    if not lines:
        raise InputError(f"Label table {table} is empty.", hint="Write one 'label,name' row per label.")
    try:
        rows = list(csv.reader(lines, delimiter="\t" if "\t" in lines[0] else ","))
    except csv.Error as exc:
        raise InputError(f"Label table {table} is not a CSV table: {exc}", hint="Save it as CSV (label,name).") from exc
    names = {}
    for row in rows:
        if len(row) >= 2 and row[0].strip().isdigit():
            names[int(row[0])] = clean_name(row[1]) or f"Label{int(row[0])}"
    if not names:
        raise InputError(f"{table.name} has no 'label,name' rows.", hint="First column: label value; second: name.")
    return names


def table_text(table: Path) -> str:
    """A table's text: UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252/Latin-1
    (what Excel writes by default on Windows)."""
    with open_regular(table) as handle:
        data = handle.read()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _names_from_nifti_extension(path: Path) -> dict[int, str]:
    """TotalSegmentator stores a label table (``<Label Key="n">name</Label>`` XML) in a NIfTI header extension."""
    if not path.name.lower().endswith((".nii", ".nii.gz")):
        return {}
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
        header = handle.read(352)
        if len(header) < 352 or header[348] != 1:
            return {}
        vox_offset = int(struct.unpack("<f", header[108:112])[0])
        extension = handle.read(max(vox_offset - 352, 0)).decode("utf-8", errors="ignore")
    pairs = re.findall(r'<Label[^>]*Key="(\d+)"[^>]*>(.*?)</Label>', extension, flags=re.S)
    return {int(key): clean_name(re.sub(r"^<!\[CDATA\[(.*)\]\]>$", r"\1", text.strip(), flags=re.S))
            for key, text in pairs}
