"""Read the headers of every file under a folder and group the DICOM ones by series.

Only headers are read here (no pixel data), so scanning a folder of 300 slices is quick and the
inspection report can be made without decoding anything.
"""

from __future__ import annotations

import logging
import os
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue

from ..errors import InputError
from ..progress import ProgressCallback, report

logger = logging.getLogger(__name__)

#: Media Storage SOP Class of a DICOMDIR: an index, not an instance to load.
DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"


@dataclass(frozen=True)
class FileHeader:
    """The header of one DICOM file, with the attributes the loader needs pulled out."""

    path: Path
    dataset: Dataset
    #: Bytes from the Pixel Data element (its tag included) to the end of the file; None when unknown.
    pixel_bytes: int | None = None

    def text(self, keyword: str) -> str:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # vendor VR-length quirks: tolerant on read
            value = self.dataset.get(keyword, "")
        return "" if value is None else str(value).strip()

    def floats(self, keyword: str) -> tuple[float, ...] | None:
        """A numeric attribute (single or multi-valued) as floats; None when absent or malformed."""
        value = self.dataset.get(keyword)
        if value is None or value == "":
            return None
        items = value if isinstance(value, (MultiValue, list, tuple)) else [value]
        try:
            return tuple(float(v) for v in items)
        except (TypeError, ValueError):
            return None

    @property
    def series_uid(self) -> str:
        return self.text("SeriesInstanceUID")

    @property
    def modality(self) -> str:
        return self.text("Modality")

    @property
    def transfer_syntax_uid(self) -> str:
        meta = getattr(self.dataset, "file_meta", None)
        return str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""

    @property
    def is_image(self) -> bool:
        """A single-frame image slice (RTDOSE grids and other multi-frame objects are not)."""
        frames = self.dataset.get("NumberOfFrames", 1) or 1
        return (
            "Rows" in self.dataset
            and "Columns" in self.dataset
            and "ImagePositionPatient" in self.dataset
            and int(frames) == 1
            and self.modality not in {"RTDOSE", "RTSTRUCT", "RTPLAN", "SEG", "REG"}
        )


@dataclass
class SeriesFiles:
    """All files of one Series Instance UID (which may be empty in anonymised data)."""

    series_uid: str
    headers: list[FileHeader] = field(default_factory=list)

    @property
    def image_headers(self) -> list[FileHeader]:
        return [h for h in self.headers if h.is_image]

    @property
    def is_image_series(self) -> bool:
        return bool(self.image_headers)

    @property
    def modality(self) -> str:
        return self.headers[0].modality if self.headers else ""


@dataclass
class ScannedFolder:
    """The result of reading every file's header under a folder."""

    folder: Path
    series: list[SeriesFiles]
    unreadable: list[tuple[Path, str]]
    file_count: int


def list_files(folder: Path) -> list[Path]:
    """Every regular file under ``folder``, recursively, in a stable order (hidden files skipped)."""
    files: list[Path] = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files.extend(Path(root) / n for n in sorted(names) if not n.startswith("."))
    return files


class NotRegularFileError(OSError):
    """A FIFO, device or socket where a file was expected: never read (a read could block forever)."""


def open_regular(path: Path) -> BinaryIO:
    """Open ``path`` for reading only if it is (or links to) a regular file; the open itself never blocks.

    Raises
    ------
    NotRegularFileError
        For a named pipe, a device, a socket or a folder.
    """
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        kind = ("named pipe (FIFO)" if stat.S_ISFIFO(mode) else "device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "socket" if stat.S_ISSOCK(mode) else "folder" if stat.S_ISDIR(mode) else "special file")
        raise NotRegularFileError(f"not a regular file: a {kind}")
    return os.fdopen(descriptor, "rb")


def read_header(path: Path) -> tuple[Dataset, int]:
    """Read a DICOM header, accepting files without the 128-byte preamble.

    Returns
    -------
    tuple
        The data set without pixel data, and the bytes from the Pixel Data element to the end of
        the file (0 when there is none): what the size checks compare with the declared matrix.

    Raises
    ------
    InvalidDicomError
        When the file is not DICOM (also for files that only parse with ``force=True`` but carry
        none of the attributes every DICOM instance has).
    NotRegularFileError
        For anything but a regular file.
    """
    with open_regular(path) as handle, warnings.catch_warnings():
        # Vendor files often break VR lengths (e.g. a 17-character StudyID); tolerant on read.
        warnings.simplefilter("ignore", UserWarning)
        size = os.fstat(handle.fileno()).st_size
        try:
            dataset = pydicom.dcmread(handle, stop_before_pixels=True)
        except InvalidDicomError:
            handle.seek(0)
            dataset = pydicom.dcmread(handle, stop_before_pixels=True, force=True)
            if "SOPClassUID" not in dataset and "Modality" not in dataset:
                raise
        # pydicom stops before the Pixel Data tag, so what is left is that element.
        return dataset, max(size - handle.tell(), 0)


def check_folder(folder: str | Path) -> Path:
    """Validate the user's folder argument; raise :class:`InputError` with a fix."""
    path = Path(folder).expanduser()
    if not str(folder).strip():
        raise InputError("No CT folder was given.", hint="Pass the folder that holds the CT's DICOM files.")
    if not path.exists():
        raise InputError(f"CT folder not found: {path}", hint="Check the path; it must be a folder of DICOM files.")
    if not path.is_dir():
        raise InputError(f"Not a folder: {path}", hint="Pass the folder that holds the CT slices, not a single file.")
    return path


def scan_folder(folder: str | Path, progress: ProgressCallback | None = None) -> ScannedFolder:
    """Read the header of every file under ``folder`` and group DICOM instances by series.

    Raises
    ------
    InputError
        When the folder does not exist, is empty, or holds no DICOM file at all.
    """
    root = check_folder(folder)
    files = list_files(root)
    if not files:
        raise InputError(f"The folder is empty: {root}", hint="Copy the CT's DICOM files into it.")
    by_series: dict[str, SeriesFiles] = {}
    unreadable: list[tuple[Path, str]] = []
    for index, path in enumerate(files):
        if index % 50 == 0:
            report(progress, index / len(files), f"Reading headers ({index}/{len(files)})")
        try:
            dataset, pixel_bytes = read_header(path)
        except (InvalidDicomError, OSError, ValueError, EOFError, AttributeError, KeyError) as exc:
            unreadable.append((path, _reason(exc)))
            continue
        if _media_sop_class(dataset) == DICOMDIR_SOP_CLASS:
            continue  # an index of other files, never an image
        header = FileHeader(path, dataset, pixel_bytes)
        by_series.setdefault(header.series_uid, SeriesFiles(header.series_uid)).headers.append(header)
    if not by_series:
        raise InputError(
            f"No DICOM files found in {root} ({len(files)} files, none readable as DICOM).",
            hint="Point to the folder exported from the PACS or planning system.",
        )
    logger.info("Scanned %d files in %s: %d series", len(files), root.name, len(by_series))
    return ScannedFolder(root, list(by_series.values()), unreadable, len(files))


def _media_sop_class(dataset: Dataset) -> str:
    meta = getattr(dataset, "file_meta", None)
    return str(meta.get("MediaStorageSOPClassUID", "")) if meta is not None else ""


def _reason(exc: Exception) -> str:
    if isinstance(exc, InvalidDicomError):
        return "not a DICOM file"
    if isinstance(exc, NotRegularFileError):
        return str(exc)
    return f"unreadable: {type(exc).__name__}: {exc}"
