"""Inspect a folder: list its series, choose the CT, and report every problem found."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..findings import Severity
from ..progress import ProgressCallback
from .checks import SeriesLayout, analyse_series
from .problems import Problem, ProblemCode, ProblemList
from .scan import ScannedFolder, SeriesFiles, scan_folder

JSON_SCHEMA = "oarcontour.inspect/1"


@dataclass(frozen=True)
class SeriesSummary:
    """One series as ``oarcontour inspect`` lists it; ``spacing`` is (column, row, slice) in mm."""

    series_uid: str
    modality: str
    slices: int
    rows: int | None
    columns: int | None
    spacing: tuple[float, float, float] | None
    patient_position: str
    series_description: str
    series_number: str
    transfer_syntax: str
    files: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "series_uid": self.series_uid, "modality": self.modality, "slices": self.slices,
            "rows": self.rows, "columns": self.columns,
            "spacing": list(self.spacing) if self.spacing else None,
            "patient_position": self.patient_position, "series_description": self.series_description,
            "series_number": self.series_number, "transfer_syntax": self.transfer_syntax, "files": self.files,
        }


@dataclass(frozen=True)
class Inspection:
    """What a folder holds and what is wrong with it; ``selected`` is None when nothing can be loaded."""

    folder: Path
    series: tuple[SeriesSummary, ...]
    selected: str | None
    problems: tuple[Problem, ...]
    layouts: dict[str, SeriesLayout] = field(repr=False, compare=False, default_factory=dict)

    def problems_for_selection(self) -> list[Problem]:
        """Folder-level problems plus those of the selected series (what decides the exit code)."""
        return [p for p in self.problems if p.series_uid is None or p.series_uid == self.selected]

    @property
    def has_errors(self) -> bool:
        return any(p.severity is Severity.ERROR for p in self.problems_for_selection())

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": JSON_SCHEMA,
            "folder": str(self.folder),
            "series": [s.to_dict() for s in self.series],
            "selected": self.selected,
            "problems": [p.to_dict() for p in self.problems],
        }


def inspect_folder(folder: str | Path, series_uid: str | None = None,
                   progress: ProgressCallback | None = None) -> Inspection:
    """Scan ``folder``, check every image series and choose the one to load.

    Raises
    ------
    InputError
        For a missing or empty folder, a folder without DICOM files, or an unknown ``series_uid``.
    """
    scanned = scan_folder(folder, progress)
    problems = ProblemList()
    _report_unreadable(scanned, problems)
    layouts = {s.series_uid: analyse_series(s, problems) for s in scanned.series if s.is_image_series}
    selected = _select(scanned, series_uid, problems)
    summaries = tuple(_summary(s, layouts.get(s.series_uid)) for s in scanned.series)
    return Inspection(scanned.folder, summaries, selected, tuple(problems.items), layouts)


def _report_unreadable(scanned: ScannedFolder, problems: ProblemList) -> None:
    if scanned.unreadable:
        reasons = sorted({reason for _, reason in scanned.unreadable})
        problems.add(Severity.WARNING, ProblemCode.UNREADABLE_FILE,
                     f"{len(scanned.unreadable)} files skipped ({'; '.join(reasons)[:200]}).",
                     files=[str(p) for p, _ in scanned.unreadable],
                     hint="Remove them from the folder if they should not be there.")


def _select(scanned: ScannedFolder, series_uid: str | None, problems: ProblemList) -> str | None:
    images = [s for s in scanned.series if s.is_image_series]
    if series_uid is not None:
        if any(s.series_uid == series_uid for s in scanned.series):
            return series_uid
        listing = ", ".join(f"{s.series_uid or '(empty)'} [{s.modality}]" for s in scanned.series)
        raise InputError(f"Series {series_uid} is not in {scanned.folder}.", hint=f"Series found: {listing}")
    if not images:
        problems.add(Severity.ERROR, ProblemCode.NO_IMAGE_SERIES,
                     f"No image series in {scanned.folder}: found only "
                     f"{', '.join(sorted({s.modality or '?' for s in scanned.series}))} objects.",
                     hint="Add the CT slices to the folder.")
        return None
    ct_series = [s for s in images if s.modality == "CT"] or images
    chosen = max(ct_series, key=lambda s: len(s.image_headers))
    if len(images) > 1:
        _report_multiple(images, chosen, problems)
    if chosen.modality != "CT":
        problems.add(Severity.WARNING, ProblemCode.NOT_CT,
                     f"No CT series found; using the {chosen.modality} series {chosen.series_uid}.",
                     series_uid=chosen.series_uid, hint="Planning structure sets normally reference a CT.")
    return chosen.series_uid


def _report_multiple(images: list[SeriesFiles], chosen: SeriesFiles, problems: ProblemList) -> None:
    listing = "; ".join(
        f"{s.series_uid or '(empty)'} {s.modality} {len(s.image_headers)} slices "
        f"'{s.image_headers[0].text('SeriesDescription')}'" for s in images)
    problems.add(Severity.WARNING, ProblemCode.MULTIPLE_SERIES,
                 f"{len(images)} image series found; selected {chosen.series_uid or '(empty UID)'} "
                 f"({len(chosen.image_headers)} slices). Series: {listing}.",
                 hint="Choose another with --series UID.")


def _summary(series: SeriesFiles, layout: SeriesLayout | None) -> SeriesSummary:
    headers = series.image_headers or series.headers
    first = headers[0]
    geometry = layout.geometry if layout else None
    rows = int(first.dataset.Rows) if "Rows" in first.dataset else None
    columns = int(first.dataset.Columns) if "Columns" in first.dataset else None
    return SeriesSummary(
        series_uid=series.series_uid, modality=series.modality, slices=len(series.image_headers),
        rows=rows, columns=columns, spacing=geometry.spacing_mm if geometry else None,
        patient_position=first.text("PatientPosition"), series_description=first.text("SeriesDescription"),
        series_number=first.text("SeriesNumber"), transfer_syntax=first.transfer_syntax_uid,
        files=len(series.headers),
    )
