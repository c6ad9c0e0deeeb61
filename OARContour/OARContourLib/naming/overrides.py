"""An institution's own name table: local names → TG-263 names, with optional colour and ROI type.

The CSV has a header and the columns ``local_name,tg263_name`` and optionally
``color_r,color_g,color_b`` (all three, integers 0-255) and ``roi_type`` (an RT ROI Interpreted
Type such as ``ORGAN``). Lines starting with ``#`` are comments. An exact local name (after
trimming spaces) wins over everything the resolver finds, with confidence 1.0; colours and types
are merged over the tables' defaults for that TG-263 name.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from ..findings import Severity
from ..rtstruct.model import RoiType
from .laterality import Side, read_side, side_of_name
from .normalize import raw_tokens
from .organs import Candidate

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("local_name", "tg263_name")
COLOR_COLUMNS = ("color_r", "color_g", "color_b")
OVERRIDE_REASON = "institution override"
CASE_DIFFERS_CONFIDENCE = 0.99
MAX_LOCAL_NAME = 64


@dataclass(frozen=True)
class OverrideEntry:
    """One row of the table."""

    local_name: str
    tg263_name: str
    color: tuple[int, int, int] | None = None
    roi_type: RoiType | None = None
    row: int = 0


@dataclass(frozen=True)
class Overrides:
    """Local names of one institution, keyed by the exact (trimmed) local name."""

    entries: dict[str, OverrideEntry] = field(default_factory=dict)
    source: str = ""

    def candidates(self, text: str) -> list[Candidate]:
        """The override for ``text``: exact local name (confidence 1.0), else the same ignoring case (0.99)."""
        entry = self.entries.get(text.strip())
        if entry is not None:
            return [Candidate(entry.tg263_name, 1.0, OVERRIDE_REASON)]
        folded = text.strip().casefold()
        matches = [e for key, e in self.entries.items() if key.casefold() == folded]
        return [Candidate(e.tg263_name, CASE_DIFFERS_CONFIDENCE, f"{OVERRIDE_REASON} (case differs)") for e in matches]

    def entry_for(self, tg263_name: str) -> OverrideEntry | None:
        """The first row mapping to ``tg263_name`` that sets a colour or a type."""
        return next((e for e in self.entries.values()
                     if e.tg263_name == tg263_name and (e.color is not None or e.roi_type is not None)), None)


def load_overrides(csv_path: str | Path) -> Overrides:
    """Read and validate an institution's override table.

    Raises
    ------
    InputError
        The file is missing or unreadable, a column is missing, or a row is invalid (the message
        names the file and the row).
    """
    path = Path(csv_path).expanduser()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Cannot read the override table {path}: {exc}",
                         hint="Give a UTF-8 CSV with columns local_name,tg263_name.") from exc
    rows = [(number, next(csv.reader([line]))) for number, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith("#")]
    if not rows:
        raise InputError(f"{path.name} is empty.", hint="The header must name local_name,tg263_name.")
    columns = [c.strip() for c in rows[0][1]]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise InputError(f"{path.name}: missing column(s) {', '.join(missing)} (found: {', '.join(columns)}).",
                         hint="The header must name local_name,tg263_name[,color_r,color_g,color_b][,roi_type].")
    entries: dict[str, OverrideEntry] = {}
    for number, values in rows[1:]:
        cells = {column: value.strip() for column, value in zip(columns, values)}
        entry = _entry(path.name, number, cells)
        _check_unique(path.name, entry, entries)
        entries[entry.local_name] = entry
    logger.info("Read %d institution overrides from %s", len(entries), path.name)
    return Overrides(entries, str(path))


def _entry(file_name: str, row: int, cells: dict[str, str]) -> OverrideEntry:
    where = f"{file_name} line {row}"
    local, target = cells.get("local_name", ""), cells.get("tg263_name", "")
    if not local or not target:
        raise InputError(f"{where}: local_name and tg263_name must both be filled.", hint="Delete or complete the row.")
    if len(local) > MAX_LOCAL_NAME:
        raise InputError(f"{where}: local_name has {len(local)} characters; ROI names have at most 64.",
                         hint="Shorten the local name.")
    _check_target(where, target)
    _check_side(where, local, target)
    return OverrideEntry(local, target, _color(where, cells), _roi_type(where, cells.get("roi_type", "")), row)


def _check_target(where: str, target: str) -> None:
    from .validate import validate_name

    errors = [f for f in validate_name(target) if f.severity is Severity.ERROR]
    if errors:
        raise InputError(f"{where}: tg263_name '{target}' is not a valid name: {errors[0].message}",
                         hint=errors[0].hint or "Use a TG-263 name (at most 16 characters, letters, digits, _).")


def _check_side(where: str, local: str, target: str) -> None:
    """An override may not swap sides: ``Parotid Lt`` → ``Parotid_R`` is a typo in the table."""
    stated = read_side(raw_tokens(local)).side
    target_side = side_of_name(target)
    if Side.NONE not in (stated, target_side) and stated is not target_side:
        raise InputError(f"{where}: local name '{local}' says side {stated.value} but '{target}' is side "
                         f"{target_side.value}.", hint="Fix the row: an override never changes a side.")


def _color(where: str, cells: dict[str, str]) -> tuple[int, int, int] | None:
    values = [cells.get(c, "") for c in COLOR_COLUMNS]
    if not any(values):
        return None
    try:
        rgb = tuple(int(v) for v in values)
    except ValueError:
        rgb = ()
    if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
        raise InputError(f"{where}: color_r, color_g, color_b must be three integers 0-255 (got {values}).",
                         hint="Fill all three colour columns or none.")
    return rgb[0], rgb[1], rgb[2]


def _roi_type(where: str, value: str) -> RoiType | None:
    if not value:
        return None
    try:
        return RoiType(value.upper())
    except ValueError:
        raise InputError(f"{where}: roi_type '{value}' is not an RT ROI Interpreted Type.",
                         hint=f"Use one of: {', '.join(t.value for t in RoiType)}.") from None


def _check_unique(file_name: str, entry: OverrideEntry, entries: dict[str, OverrideEntry]) -> None:
    for other in entries.values():
        if other.local_name.casefold() == entry.local_name.casefold() and other.tg263_name != entry.tg263_name:
            raise InputError(f"{file_name} line {entry.row}: local name '{entry.local_name}' is already mapped to "
                             f"'{other.tg263_name}' on line {other.row}.", hint="Keep one row per local name.")
