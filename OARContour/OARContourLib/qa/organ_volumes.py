"""Plausible organ volumes (cc) from ``Resources/QA/organ_volumes.csv``."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import InputError
from ..resources import resource_path

COLUMNS = ("tg263_name", "min_cc", "max_cc", "source")


@dataclass(frozen=True)
class VolumeRange:
    """Plausible volume range of one organ, in cubic centimetres."""

    tg263_name: str
    min_cc: float
    max_cc: float
    source: str


@lru_cache(maxsize=4)
def load_volume_ranges(path: str | None = None) -> dict[str, VolumeRange]:
    """Ranges keyed by case-folded TG-263 name.

    Parameters
    ----------
    path
        A CSV file with the columns of :data:`COLUMNS`; default the packaged table.

    Raises
    ------
    InputError
        A missing column or a row whose numbers do not parse or have ``min_cc > max_cc``.
    """
    file = Path(path) if path else resource_path("QA/organ_volumes.csv")
    with file.open(newline="", encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        if tuple(rows.fieldnames or ()) != COLUMNS:
            raise InputError(f"{file.name}: columns {rows.fieldnames}, expected {list(COLUMNS)}.",
                             hint="Restore the header line of the organ volume table.")
        return {r.tg263_name.casefold(): r for r in (_row(file, n, row) for n, row in enumerate(rows, 2))}


def _row(file: Path, number: int, row: dict[str, str]) -> VolumeRange:
    try:
        entry = VolumeRange(row["tg263_name"], float(row["min_cc"]), float(row["max_cc"]), row["source"])
    except (TypeError, ValueError) as error:
        raise InputError(f"{file.name} data row {number}: {error}.", hint="min_cc and max_cc must be numbers.") from error
    if not 0 <= entry.min_cc <= entry.max_cc:
        raise InputError(f"{file.name} data row {number}: range {entry.min_cc}-{entry.max_cc} cc is not valid.",
                         hint="Use 0 <= min_cc <= max_cc.")
    return entry
