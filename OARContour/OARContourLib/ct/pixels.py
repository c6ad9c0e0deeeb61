"""Pixel data: stacking decoded slices into one array of Hounsfield units."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from ..dicom_compat import stored_pixels
from ..errors import GeometryError
from ..progress import ProgressCallback, report
from .scan import FileHeader

logger = logging.getLogger(__name__)

def hu_dtype(headers: Sequence[FileHeader]) -> np.dtype:
    """int16 when every slope is 1 and every intercept an integer, float32 otherwise."""
    slopes = {(h.floats("RescaleSlope") or (1.0,))[0] for h in headers}
    intercepts = {(h.floats("RescaleIntercept") or (0.0,))[0] for h in headers}
    if slopes == {1.0} and all(float(i).is_integer() for i in intercepts):
        return np.dtype(np.int16) if _fits_int16(headers, intercepts) else np.dtype(np.int32)
    return np.dtype(np.float32)


def _fits_int16(headers: Sequence[FileHeader], intercepts: set[float]) -> bool:
    bits = int(headers[0].dataset.get("BitsStored", 16))
    signed = int(headers[0].dataset.get("PixelRepresentation", 0)) == 1
    low = -(2 ** (bits - 1)) if signed else 0
    high = 2 ** (bits - 1) - 1 if signed else 2**bits - 1
    return all(-32768 <= low + i and high + i <= 32767 for i in intercepts)


def stack_hu(headers: Sequence[FileHeader], progress: ProgressCallback | None = None) -> np.ndarray:
    """Decode every slice (in the given order) into one (k, j, i) array of Hounsfield units.

    Raises
    ------
    GeometryError
        When a slice cannot be decoded or its matrix differs from the first slice.
    """
    first = headers[0].dataset
    volume = np.empty((len(headers), int(first.Rows), int(first.Columns)), dtype=hu_dtype(headers))
    for k, header in enumerate(headers):
        if k % 16 == 0:
            report(progress, k / len(headers), f"Decoding slice {k + 1}/{len(headers)}")
        volume[k] = _slice_hu(header, volume.dtype)
    report(progress, 1.0, f"Decoded {len(headers)} slices")
    return _narrowed(volume)


def _narrowed(volume: np.ndarray) -> np.ndarray:
    """int16 when the decoded values allow it (unsigned 16-bit storage is often chosen needlessly)."""
    if volume.dtype == np.int32 and volume.size and volume.min() >= -32768 and volume.max() <= 32767:
        return volume.astype(np.int16)
    return volume


def _slice_hu(header: FileHeader, dtype: np.dtype) -> np.ndarray:
    try:
        stored = stored_pixels(header.path)
    except Exception as exc:  # decoders raise many types; name the file and keep the cause
        raise GeometryError(
            f"Cannot decode the pixel data of {header.path.name}: {' '.join(str(exc).split())}",
            hint="Check the file is complete; for compressed files install pylibjpeg-openjpeg or python-gdcm.",
        ) from exc
    slope = (header.floats("RescaleSlope") or (1.0,))[0]
    intercept = (header.floats("RescaleIntercept") or (0.0,))[0]
    if dtype.kind == "f":
        return stored.astype(np.float32) * np.float32(slope) + np.float32(intercept)
    return stored.astype(dtype) + dtype.type(intercept)
