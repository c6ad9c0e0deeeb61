"""Read mask and label images safely: only complete files, only regular files, from any file name.

SimpleITK reads a ``.nii.gz`` whose gzip stream was cut off without an error (the missing voxels
become zeros, so a truncated mask looks like a smaller organ), and a file name that is not UTF-8
aborts the process inside the NIfTI library. So before SimpleITK sees a file, this module checks
that a NIfTI file holds every byte its header declares (for gzip files via the stream's trailer,
falling back to full decompression), and hands SimpleITK a link or copy under a plain temporary
name when the real name is not clean text.
"""

from __future__ import annotations

import gzip
import os
import shutil
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from .ct.scan import open_regular
from .errors import InputError
from .file_names import is_clean

#: Bytes read at a time when a gzip stream must be decompressed in full.
_CHUNK = 1 << 20
_NIFTI1_HEADER, _NIFTI2_HEADER = 348, 540


def read_image(path: Path) -> sitk.Image:
    """The image in ``path``, refused when it is not a regular file or is truncated.

    Raises
    ------
    InputError
        The file is not a regular file, is cut off, or SimpleITK cannot read it; the message names it.
    """
    try:
        open_regular(path).close()
        problem = truncation_problem(path)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"Cannot read {path}: {exc}", hint="Use complete NIfTI (.nii.gz) or NRRD masks.") from exc
    if problem:
        raise InputError(f"{path} is truncated: {problem}.",
                         hint="Copy or export the mask again; a truncated mask would lose part of the structure.")
    if is_clean(str(path)):
        return _sitk_read(path, path)
    with tempfile.TemporaryDirectory(prefix="oarcontour-") as folder:
        plain = Path(folder) / f"image{_suffix(path)}"
        try:
            os.link(path, plain)
        except OSError:
            shutil.copyfile(path, plain)
        return _sitk_read(plain, path)


def _suffix(path: Path) -> str:
    lower = path.name.lower()
    return next((s for s in (".nii.gz", ".seg.nrrd", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd") if lower.endswith(s)),
                path.suffix.encode("ascii", "replace").decode())


def _sitk_read(path: Path, shown: Path) -> sitk.Image:
    try:
        return sitk.ReadImage(str(path))
    except RuntimeError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        raise InputError(f"Cannot read {shown}: {(lines[-1] if lines else 'unreadable')[:200]}",
                         hint="Use NIfTI (.nii.gz) or NRRD masks.") from exc


def truncation_problem(path: Path) -> str | None:
    """Why a NIfTI file (``.nii`` or ``.nii.gz``) holds fewer bytes than its header declares, or None."""
    lower = path.name.lower()
    if lower.endswith(".nii"):
        with open_regular(path) as handle:
            expected = _nifti_size(handle.read(_NIFTI2_HEADER))
            size = os.fstat(handle.fileno()).st_size
        return None if expected is None or size >= expected else f"{size} bytes for a declared {expected}"
    if lower.endswith(".nii.gz"):
        return _gzip_problem(path)
    return None


def _gzip_problem(path: Path) -> str | None:
    with open_regular(path) as raw:
        with gzip.GzipFile(fileobj=raw) as stream:
            expected = _nifti_size(stream.read(_NIFTI2_HEADER))
        raw.seek(-4, os.SEEK_END)
        trailer = struct.unpack("<L", raw.read(4))[0]
    if expected is not None and trailer == expected % (1 << 32):
        return None  # the usual case: one gzip member whose trailer records the declared size
    total = _decompressed_size(path)
    if isinstance(total, str):
        return total
    if expected is not None and total < expected:
        return f"{total} bytes after decompression for a declared {expected}"
    return None


def _decompressed_size(path: Path) -> int | str:
    """Decompress the whole stream (checking its CRC); the byte count, or why the stream is broken."""
    total = 0
    try:
        with open_regular(path) as raw, gzip.GzipFile(fileobj=raw) as stream:
            while chunk := stream.read(_CHUNK):
                total += len(chunk)
    except EOFError:
        return f"the gzip stream ends after {total} bytes, before its end marker"
    except (gzip.BadGzipFile, zlib.error) as exc:
        return f"the gzip stream is damaged after {total} bytes ({exc})"
    return total


def _nifti_size(header: bytes) -> int | None:
    """vox_offset plus the voxel bytes a NIfTI-1 or NIfTI-2 header declares; None for anything else."""
    for order in ("<", ">"):
        if len(header) >= _NIFTI1_HEADER and struct.unpack_from(order + "i", header, 0)[0] == _NIFTI1_HEADER:
            dims = struct.unpack_from(order + "8h", header, 40)
            bitpix = struct.unpack_from(order + "h", header, 72)[0]
            offset = int(struct.unpack_from(order + "f", header, 108)[0])
            return _size(dims, bitpix, offset)
        if len(header) >= _NIFTI2_HEADER and struct.unpack_from(order + "i", header, 0)[0] == _NIFTI2_HEADER:
            dims = struct.unpack_from(order + "8q", header, 16)
            bitpix = struct.unpack_from(order + "h", header, 14)[0]
            offset = int(struct.unpack_from(order + "q", header, 168)[0])
            return _size(dims, bitpix, offset)
    return None


def _size(dims: tuple[int, ...], bitpix: int, offset: int) -> int | None:
    count = dims[0]
    if not 1 <= count <= 7 or bitpix <= 0 or offset < 0 or any(d < 0 for d in dims[1:count + 1]):
        return None
    voxels = int(np.prod([int(d) for d in dims[1:count + 1]], dtype=np.int64))
    return offset + (voxels * bitpix + 7) // 8
