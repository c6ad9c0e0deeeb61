"""Build broken CT series for loader tests by editing copies of a small phantom series.

The phantom is written once per test session; each test edits its own copy, never the original.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid


def copy_series(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def sorted_files(folder: Path) -> list[Path]:
    """Slice files ordered by position along z (the phantom is axial)."""
    files = [p for p in folder.iterdir() if p.is_file()]
    return sorted(files, key=lambda p: float(pydicom.dcmread(p, stop_before_pixels=True).ImagePositionPatient[2]))


def edit(path: Path, change: Callable[[Dataset], None]) -> None:
    dataset = pydicom.dcmread(path)
    change(dataset)
    dataset.save_as(path)


def edit_all(folder: Path, change: Callable[[int, Dataset], None]) -> None:
    for index, path in enumerate(sorted_files(folder)):
        edit(path, lambda ds, i=index: change(i, ds))


def duplicate_slice(folder: Path, index: int) -> Path:
    """A second file at the same position as slice ``index`` (new SOP Instance UID)."""
    source = sorted_files(folder)[index]
    target = folder / f"copy_of_{source.name}"
    shutil.copy(source, target)
    edit(target, lambda ds: setattr(ds, "SOPInstanceUID", generate_uid()))
    return target
