"""The one place where pydicom 2.4 (Slicer 5.10) and pydicom 3 (Slicer 5.12, pip installs) differ.

Slicer 5.10 bundles pydicom 2.4.4, which has no ``pydicom.pixels`` package and whose
``Dataset.save_as`` takes ``write_like_original`` instead of ``enforce_file_format``. Every other
module reads pixels and writes files through the functions here, so no version check is scattered
through the code.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import UID

from .startup import install_command  # lives where it works without pydicom (the panel needs it then)

#: True on pydicom 3.x, whose pixel package and ``save_as`` keywords we use there.
PYDICOM_3 = int(pydicom.__version__.split(".")[0]) >= 3

#: What to install for each family of compressed transfer syntaxes (pip names).
DECODER_PACKAGES = {
    "JPEG 2000": "pylibjpeg pylibjpeg-openjpeg",
    "JPEG-LS": "pylibjpeg pylibjpeg-libjpeg",
    "JPEG": "pylibjpeg pylibjpeg-libjpeg",
    "RLE": "pylibjpeg pylibjpeg-rle",
}


def save_dataset(dataset: Dataset, path: str | os.PathLike[str], *, enforce_file_format: bool) -> None:
    """Write ``dataset`` to ``path``.

    ``enforce_file_format=True`` writes a conformant DICOM file (preamble, complete File Meta
    Information); ``False`` keeps the data set as it was read (used when rewriting a user's file).
    """
    if PYDICOM_3:
        dataset.save_as(str(path), enforce_file_format=enforce_file_format)
    else:
        dataset.save_as(str(path), write_like_original=not enforce_file_format)


def save_without_file_meta(dataset: Dataset, path: str | os.PathLike[str]) -> None:
    """Write ``dataset`` bare: no preamble, no File Meta Information, Implicit VR Little Endian.

    That is how some old systems store files, and the readers must accept them. ``dataset`` itself is
    not changed (its file meta and preamble are left out of a shallow copy).
    """
    bare = Dataset(dataset)
    if PYDICOM_3:
        pydicom.dcmwrite(str(path), bare, implicit_vr=True, little_endian=True)
    else:
        bare.is_implicit_VR, bare.is_little_endian = True, True
        pydicom.dcmwrite(str(path), bare, write_like_original=True)


def stored_pixels(path: str | Path) -> np.ndarray:
    """The stored pixel values of one single-frame image file (no rescale, no colour conversion)."""
    if PYDICOM_3:
        from pydicom.pixels import pixel_array

        return pixel_array(str(path), raw=True)
    return pydicom.dcmread(str(path)).pixel_array


def decoder_available(transfer_syntax_uid: str) -> bool | None:
    """True when pixel data in this transfer syntax can be decoded here, False when a decoder exists
    but is not installed, None when no decoder exists for it at all."""
    uid = UID(transfer_syntax_uid)
    if PYDICOM_3:
        from pydicom.pixels import get_decoder

        try:
            return bool(get_decoder(uid).is_available)
        except NotImplementedError:
            return None
    from pydicom import config

    handlers = [h for h in config.pixel_data_handlers if h.supports_transfer_syntax(uid)]
    if not handlers:
        return None
    return any(h.is_available() for h in handlers)


def decoder_problem(transfer_syntax_uid: str) -> tuple[str, str] | None:
    """(message, hint) when pixel data in this transfer syntax cannot be decoded here, else None."""
    uid = UID(transfer_syntax_uid)
    available = decoder_available(uid)
    if available is None:
        return (f"No decoder exists for transfer syntax {uid} ({uid.name}).",
                "Ask the sender for an uncompressed or JPEG 2000/JPEG-LS/RLE export.")
    if available:
        return None
    packages = next((pkg for family, pkg in DECODER_PACKAGES.items() if family in uid.name), "pylibjpeg python-gdcm")
    return (f"The slices are compressed as {uid.name} and no decoder for it is installed.",
            f"Install one with: {install_command(packages)} (or python-gdcm).")
