"""Rename the ROIs of an existing RTSTRUCT to TG-263 names, changing nothing else.

Only ROI Name (3006,0026), ROI Observation Label (3006,0085, when it repeated the old name or its
first 16 characters), and RT ROI Interpreted Type (3006,00A4) and ROI Display Color (3006,002A)
where they are missing or empty are written; every other element, the SOP Instance UID included,
is kept as read. A name is only applied at or above the confidence threshold, never when it
would change or invent a side (institution overrides may add a side the local name implies, never
swap one), and never when it would duplicate another ROI's name ignoring case: those ROIs are left
for a human, with the reason. The input is never modified; the output is written to a temporary
file and renamed into place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydicom.dataset import Dataset

from ..atomic import write_file
from ..dicom_compat import save_dataset
from ..errors import InputError
from ..rtstruct.parse import read_dataset
from .appearance import Appearance, appearance
from .laterality import Side, read_side, side_of_name
from .normalize import raw_tokens
from .overrides import Overrides
from .resolve import AUTO_APPLY_CONFIDENCE, Suggestion, suggest

if TYPE_CHECKING:
    from .tables import NamingTables

logger = logging.getLogger(__name__)

MAX_OBSERVATION_LABEL = 16


@dataclass(frozen=True)
class RenamedRoi:
    """One ROI that was renamed, and what else was filled in."""

    roi_number: int
    old_name: str
    new_name: str
    confidence: float
    reason: str
    roi_type_set: str | None = None
    color_set: tuple[int, int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"roi_number": self.roi_number, "old_name": self.old_name, "new_name": self.new_name,
                "confidence": round(self.confidence, 3), "reason": self.reason, "roi_type_set": self.roi_type_set,
                "color_set": list(self.color_set) if self.color_set else None}


@dataclass(frozen=True)
class ReviewItem:
    """An ROI left as it was, why, and what a human might choose."""

    roi_number: int
    name: str
    reason: str
    suggestions: tuple[Suggestion, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"roi_number": self.roi_number, "name": self.name, "reason": self.reason,
                "suggestions": [s.to_dict() for s in self.suggestions]}


@dataclass(frozen=True)
class RenameReport:
    """What :func:`rename_rtstruct` did."""

    source: str
    output: str
    min_confidence: float
    renamed: tuple[RenamedRoi, ...]
    unchanged: tuple[str, ...]
    left_for_review: tuple[ReviewItem, ...]
    filled: tuple[RenamedRoi, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "output": self.output, "min_confidence": self.min_confidence,
                "renamed": [r.to_dict() for r in self.renamed], "unchanged": list(self.unchanged),
                "filled": [r.to_dict() for r in self.filled],
                "left_for_review": [r.to_dict() for r in self.left_for_review]}


@dataclass(frozen=True)
class _Plan:
    number: int
    old: str
    new: str | None
    top: Suggestion | None
    suggestions: tuple[Suggestion, ...]
    reason: str


def rename_rtstruct(source: str | Path, output: str | Path, *, tables: NamingTables | None = None,
                    overrides: Overrides | None = None, min_confidence: float = AUTO_APPLY_CONFIDENCE,
                    overwrite: bool = False) -> RenameReport:
    """Write a copy of ``source`` with TG-263 ROI names.

    Parameters
    ----------
    source
        The RTSTRUCT to rename (never modified).
    output
        The file to write.
    tables, overrides
        Naming tables (default :func:`~.tables.load_tables`) and an institution's overrides.
    min_confidence
        Apply suggestions at or above this, between :data:`AUTO_APPLY_CONFIDENCE` and 1.
    overwrite
        Replace an existing ``output``.

    Returns
    -------
    RenameReport
        Renamed ROIs, ROIs already named right, ROIs left for review with the reason.

    Raises
    ------
    InputError
        ``source`` is not a readable RTSTRUCT, ``output`` is ``source`` or exists without
        ``overwrite``, its folder is missing, or ``min_confidence`` is out of range.
    """
    if not AUTO_APPLY_CONFIDENCE <= min_confidence <= 1.0:
        raise InputError(f"Minimum confidence {min_confidence:g} is outside {AUTO_APPLY_CONFIDENCE}-1.",
                         hint="Lower values would apply guesses; review them with 'oarcontour names suggest' "
                              "and put the choices in an override table (--map).")
    source_path = Path(source).expanduser()
    target = _check_output(source_path, Path(output), overwrite)
    if tables is None:
        from .tables import load_tables

        tables = load_tables()
    dataset = read_dataset(source_path)
    plans = _resolve_duplicates([_plan(n, name, tables, overrides, min_confidence) for n, name in _roi_names(dataset)])
    renamed, filled = _apply(dataset, plans, tables, overrides)
    _save_atomically(dataset, target)
    review = tuple(ReviewItem(p.number, p.old, p.reason, p.suggestions) for p in plans if p.new is None and p.reason)
    unchanged = tuple(p.old for p in plans if p.new is None and not p.reason)
    logger.info("Renamed %d ROIs of %s (%d left for review) into %s", len(renamed), source_path.name, len(review),
                target.name)
    return RenameReport(str(source_path), str(target), min_confidence, renamed, unchanged, review, filled)


def _check_output(source: Path, output: Path, overwrite: bool) -> Path:
    target = output.expanduser().resolve()
    if source.exists() and target == source.resolve():
        raise InputError(f"The output {target} is the input file.", hint="Choose another output; the input is "
                         "never modified.")
    if not target.parent.is_dir():
        raise InputError(f"Output folder does not exist: {target.parent}", hint="Create it first.")
    if target.exists() and not overwrite:
        raise InputError(f"{target} exists.", hint="Pass --overwrite or choose another name.")
    return target


def _roi_names(dataset: Dataset) -> list[tuple[int, str]]:
    names = []
    for item in dataset.get("StructureSetROISequence") or []:
        try:
            number = int(item.get("ROINumber"))
        except (TypeError, ValueError):
            continue  # an ROI without a number cannot be referenced; the reader reports it
        names.append((number, str(item.get("ROIName") or "")))
    return names


def _plan(number: int, old: str, tables: NamingTables, overrides: Overrides | None, threshold: float) -> _Plan:
    suggestions = tuple(suggest(old, tables, overrides, limit=3))
    top = suggestions[0] if suggestions else None
    if top is not None and top.name == old:
        return _Plan(number, old, None, top, suggestions, "")
    if top is None:
        return _Plan(number, old, None, None, suggestions, "no TG-263 name found")
    if top.confidence < threshold:
        return _Plan(number, old, None, top, suggestions, f"best suggestion '{top.name}' has confidence "
                     f"{top.confidence:.2f} < {threshold:.2f} ({top.reason})")
    conflict = _side_conflict(old, top.name, overrides)
    if conflict:
        return _Plan(number, old, None, top, suggestions, conflict)
    return _Plan(number, old, top.name, top, suggestions, "")


def _side_conflict(old: str, new: str, overrides: Overrides | None) -> str:
    """A second, independent check that the side is never changed or guessed."""
    stated = read_side(raw_tokens(old))
    side = side_of_name(new)
    if side is Side.NONE or (side is stated.side and not stated.unknown):
        return ""
    from_override = overrides is not None and any(c.name == new for c in overrides.candidates(old))
    if from_override and stated.side is Side.NONE and not stated.unknown:
        return ""
    return f"'{new}' has side {side.value}, which the name does not state"


def _resolve_duplicates(plans: list[_Plan]) -> list[_Plan]:
    """Undo renames that would give two ROIs the same name (ignoring case), until none is left."""
    while True:
        finals: dict[str, list[_Plan]] = {}
        for plan in plans:
            finals.setdefault((plan.new or plan.old).strip().casefold(), []).append(plan)
        clashing = {id(p): group for group in finals.values() if len(group) > 1 for p in group if p.new}
        if not clashing:
            return plans
        plans = [_Plan(p.number, p.old, None, p.top, p.suggestions, _duplicate_reason(p, clashing[id(p)]))
                 if id(p) in clashing else p for p in plans]


def _duplicate_reason(plan: _Plan, group: list[_Plan]) -> str:
    others = ", ".join(f"ROI {p.number} '{p.old}'" for p in group if p is not plan)
    return f"renaming to '{plan.new}' would duplicate the name of {others} (ignoring case)"


def _apply(dataset: Dataset, plans: list[_Plan], tables: NamingTables, overrides: Overrides | None,
           ) -> tuple[tuple[RenamedRoi, ...], tuple[RenamedRoi, ...]]:
    renamed, filled = [], []
    for plan in plans:
        final = plan.new or (plan.old if not plan.reason else None)
        if final is None:
            continue
        if plan.new:
            _set_name(dataset, plan.number, plan.old, plan.new)
        roi_type, color = _fill_defaults(dataset, plan.number, appearance(final, overrides=overrides, tables=tables))
        record = RenamedRoi(plan.number, plan.old, final, plan.top.confidence if plan.top else 1.0,
                            plan.top.reason if plan.top else "", roi_type, color)
        if plan.new:
            renamed.append(record)
        elif roi_type or color:
            filled.append(record)
    return tuple(renamed), tuple(filled)


def _set_name(dataset: Dataset, number: int, old: str, new: str) -> None:
    for item in _items(dataset, "StructureSetROISequence", "ROINumber", number):
        item.ROIName = new
    for item in _items(dataset, "RTROIObservationsSequence", "ReferencedROINumber", number):
        label = item.get("ROIObservationLabel")
        if label is not None and str(label).strip() in (old.strip(), old[:MAX_OBSERVATION_LABEL].strip()):
            item.ROIObservationLabel = new[:MAX_OBSERVATION_LABEL]


def _fill_defaults(dataset: Dataset, number: int, appearance: Appearance) -> tuple[str | None, tuple | None]:
    """Write the default type and colour only where the element is missing or empty (names the tables
    or the overrides know; others keep what they have)."""
    roi_type_set = color_set = None
    if not appearance.known:
        return None, None
    if appearance.roi_type is not None:
        for item in _items(dataset, "RTROIObservationsSequence", "ReferencedROINumber", number):
            if not str(item.get("RTROIInterpretedType") or "").strip():
                item.RTROIInterpretedType = roi_type_set = appearance.roi_type.value
    if appearance.color:
        for item in _items(dataset, "ROIContourSequence", "ReferencedROINumber", number):
            if "ROIDisplayColor" not in item or not item.ROIDisplayColor:
                item.ROIDisplayColor = list(appearance.color)
                color_set = appearance.color
    return roi_type_set, color_set


def _items(dataset: Dataset, sequence: str, keyword: str, number: int) -> list[Dataset]:
    found = []
    for item in dataset.get(sequence) or []:
        try:
            if int(item.get(keyword)) == number:
                found.append(item)
        except (TypeError, ValueError):
            continue
    return found


def _save_atomically(dataset: Dataset, target: Path) -> None:
    """Write like the original (no re-encoding) to a temporary file, then rename it into place."""
    write_file(target, lambda temporary: save_dataset(dataset, temporary, enforce_file_format=False))

