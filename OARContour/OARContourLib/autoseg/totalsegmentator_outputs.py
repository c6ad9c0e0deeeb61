"""Import a TotalSegmentator output as TG-263 structures on the CT grid.

Accepted outputs:

- a multilabel NIfTI (``--ml``); label names from TotalSegmentator's embedded header table, or
  from a ``label,name`` CSV (``label_map``);
- a folder of per-class NIfTI files ``<class>.nii.gz`` (other files are ignored).

Each class is mapped through the naming table ``totalsegmentator_to_tg263.csv`` keyed on the TS
class name (never the display name). ``no_equivalent`` classes and classes absent from the table
are reported in ``skipped`` under their TS class name. Orientation comes from each file's own
geometry, so LAS/RAS files land where they were drawn; files on another grid are resampled
(nearest neighbour) and reported as ``MASK_RESAMPLED`` findings.

Composite rows (``Lung_L`` = union of the left lobes, ``Lungs``, ``Kidneys``, ``Parotids`` ...) are
the union of the component classes present in the output:

- all components present → the union;
- some present → the union of those, plus a ``COMPOSITE_PARTIAL`` warning naming the missing
  classes (TotalSegmentator omits classes that are outside the scan or were not requested, and the
  file cannot tell the two apart, so review the structure);
- none present → skipped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..ct.model import CTVolume
from ..errors import InputError
from ..findings import Finding, Severity
from ..mask_files import read_masks
from ..mask_grid import MaskInput
from ..naming.entries import TSMapping
from ..naming.tables import load_tables
from ..progress import ProgressCallback, report
from ..rtstruct.model import Structure
from .result import DESCRIPTION_MAX_CHARS, AutosegResult, make_structure
from .selection import TOTALSEGMENTATOR, select_structures

logger = logging.getLogger(__name__)

NO_EQUIVALENT = "no_equivalent"


def import_totalsegmentator_output(path: str | Path, ct: CTVolume, task: str = "total",
                                   label_map: str | Path | None = None, template: str | None = None,
                                   structures: Sequence[str] | None = None,
                                   progress: ProgressCallback | None = None) -> AutosegResult:
    """TG-263 structures from a TotalSegmentator output, on ``ct``'s grid.

    Parameters
    ----------
    path
        Multilabel NIfTI or folder of per-class NIfTI files.
    ct
        The CT the structures are for (only its geometry is used).
    task
        The TotalSegmentator task that made the output (``total``, ``head_glands_cavities`` ...).
    label_map
        ``label,name`` CSV for a multilabel file without an embedded label table.
    template, structures
        Keep only a site template's structures, or the listed TG-263 names (as :func:`.engine.run_autoseg`).

    Raises
    ------
    InputError
        Missing or unreadable path, labels without names, unknown task, template or structure.
    """
    started = time.perf_counter()
    source = Path(path).expanduser()
    tables = load_tables()
    if not any(m.ts_task == task for m in tables.ts_map):
        tasks = sorted({m.ts_task for m in tables.ts_map})
        raise InputError(f"Unknown TotalSegmentator task '{task}'.", hint=f"Use one of: {', '.join(tasks)}.")
    report(progress, 0.0, f"Reading {source.name}")
    by_class, findings = read_classes(source, ct, label_map)
    report(progress, 0.6, "Mapping TotalSegmentator classes to TG-263")
    description = f"OARContour import TotalSegmentator {task}"[:DESCRIPTION_MAX_CHARS]
    made, skipped, partial = structures_from_classes(by_class, task, ct.geometry.shape, description)
    findings += partial
    chosen, skipped = _select(made, skipped, template, structures, task)
    report(progress, 1.0, "TotalSegmentator import done")
    provenance = {"engine": TOTALSEGMENTATOR, "version": "unknown (imported output)", "task": task,
                  "source": source.name, "template": template, "classes": len(by_class),
                  "seconds": round(time.perf_counter() - started, 3)}
    logger.info("Imported %d structure(s) from %s (task %s).", len(chosen), source.name, task)
    return AutosegResult(tuple(chosen), skipped, provenance, tuple(findings))


def read_classes(path: Path, ct: CTVolume, label_map: str | Path | None = None,
                 ) -> tuple[dict[str, MaskInput], list[Finding]]:
    """TotalSegmentator class name → its (non-empty) mask on ``ct``'s grid, plus resampling findings.

    Raises
    ------
    InputError
        Missing or unreadable path, labels without names.
    """
    masks, findings = read_masks(path, ct.geometry, label_map)
    return {m.name: m for m in masks if m.mask.any()}, findings


def structures_from_classes(by_class: dict[str, MaskInput], task: str, shape: tuple[int, int, int],
                            description: str) -> tuple[dict[str, Structure], dict[str, str], list[Finding]]:
    """TG-263 structures from TotalSegmentator class masks (keyed on class names, never display names).

    Returns the structures by TG-263 name, the classes skipped with their reason, and
    ``COMPOSITE_PARTIAL`` findings. The Slicer extension adapter uses it for segments too.
    """
    made, skipped = _map_classes(by_class, task, shape, description)
    composites, partial = _composites(by_class, task, shape, description, made)
    made.update(composites)
    return made, skipped, partial


def _map_classes(by_class: dict[str, MaskInput], task: str, shape: tuple[int, int, int],
                 description: str) -> tuple[dict[str, Structure], dict[str, str]]:
    """One structure per mapped class (classes sharing a TG-263 name are joined); the rest skipped."""
    tables = load_tables()
    groups: dict[str, list[MaskInput]] = {}
    skipped: dict[str, str] = {}
    for ts_class, mask in by_class.items():
        row = tables.ts_mapping(task, ts_class)
        if row is None:
            skipped[ts_class] = f"TotalSegmentator class '{ts_class}' is not in the TG-263 table for task {task}"
        elif row.status == NO_EQUIVALENT or not row.tg263_name:
            skipped[ts_class] = "no TG-263 equivalent" + (f" ({row.note})" if row.note else "")
        else:
            groups.setdefault(row.tg263_name, []).append(mask)
    made = {name: _structure(name, parts, shape, description) for name, parts in groups.items()}
    return made, skipped


def _composites(by_class: dict[str, MaskInput], task: str, shape: tuple[int, int, int], description: str,
                made: dict[str, Structure]) -> tuple[dict[str, Structure], list[Finding]]:
    out: dict[str, Structure] = {}
    findings: list[Finding] = []
    for row in load_tables().composites(task):
        present = [c for c in row.components if c in by_class]
        if not present or not row.tg263_name or row.tg263_name in made:
            continue
        missing = [c for c in row.components if c not in by_class]
        if missing:
            findings.append(_partial_finding(row, missing))
        out[row.tg263_name] = _structure(row.tg263_name, [by_class[c] for c in present], shape, description)
    return out, findings


def _partial_finding(row: TSMapping, missing: list[str]) -> Finding:
    return Finding("COMPOSITE_PARTIAL", Severity.WARNING,
                   f"'{row.tg263_name}' is the union of the classes present; missing: {', '.join(missing)}.",
                   roi_name=row.tg263_name,
                   hint="The missing classes may lie outside the scan or were not requested; review the structure.")


def _structure(name: str, parts: list[MaskInput], shape: tuple[int, int, int], description: str) -> Structure:
    block, offset = _union(parts, shape)
    return make_structure(name, block, description, offset_kji=offset)


def _union(parts: list[MaskInput], shape: tuple[int, int, int]) -> tuple[np.ndarray, tuple[int, int, int]]:
    """The parts' union on the box that holds them all (not the whole grid), and the box's offset."""
    placed = [p for p in parts if p.mask.size]
    if not placed:
        return np.zeros((0, 0, 0), dtype=bool), (0, 0, 0)
    lo = tuple(min(p.offset_kji[a] for p in placed) for a in range(3))
    hi = tuple(max(p.offset_kji[a] + p.mask.shape[a] for p in placed) for a in range(3))
    out = np.zeros(tuple(b - a for a, b in zip(lo, hi)), dtype=bool)
    for part in placed:
        window = tuple(slice(o - a, o - a + n) for o, a, n in zip(part.offset_kji, lo, part.mask.shape))
        out[window] |= part.mask.astype(bool, copy=False)
    return out, lo  # type: ignore[return-value]


def _select(made: dict[str, Structure], skipped: dict[str, str], template: str | None,
            structures: Sequence[str] | None, task: str) -> tuple[list[Structure], dict[str, str]]:
    """Apply a template or structure list; without one keep everything, ordered by name."""
    if template is None and structures is None:
        return [made[name] for name in sorted(made)], skipped
    if structures is not None:
        mappable = {m.tg263_name for m in load_tables().ts_map if m.ts_task == task and m.tg263_name}
        unknown = [name for name in structures if name not in mappable]
        if unknown:
            raise InputError(f"TotalSegmentator task {task} has no class for: {', '.join(unknown)}.",
                             hint=f"Choose from: {', '.join(sorted(mappable))}.")
        wanted, chosen_skips = list(dict.fromkeys(structures)), dict[str, str]()
    else:
        wanted, chosen_skips = select_structures(TOTALSEGMENTATOR, tuple(made), template, None)
    for name in wanted:
        if name not in made:
            chosen_skips[name] = "not in the TotalSegmentator output"
    return [made[name] for name in wanted if name in made], chosen_skips
