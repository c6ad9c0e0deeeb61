"""Which TotalSegmentator runs produce the wanted TG-263 structures.

The planner reads only our naming tables (``totalsegmentator_to_tg263.csv`` and the site templates),
never the TotalSegmentator package, so it works before TotalSegmentator is installed. A name several
tasks provide is taken from the best one: open before licensed (a licence is a hurdle), CT before MR
(OARContour segments CTs), ``total`` before the smaller tasks (one run with ``roi_subset`` and a cheap
crop), then the order of the table. ``total`` and ``total_mr`` get a ``roi_subset`` of exactly the
classes needed; the other tasks reject ``roi_subset`` and always produce all their classes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from ..naming.entries import TemplateEntry, TSMapping
from ..naming.tables import NamingTables, load_tables
from .ts_model import LICENSED_TASKS, ROI_SUBSET_TASKS, TSPlan, TSTaskRun

logger = logging.getLogger(__name__)

NO_EQUIVALENT = "no_equivalent"
REASON_NO_TASK = "manual: no TotalSegmentator task provides it"
REASON_UNKNOWN = "unknown name: not in the OARContour naming tables (check the spelling)"
REASON_CLASSICAL = "classical: the template takes it from OARContour's CPU recipes, not TotalSegmentator"
REASON_MANUAL = "manual: the template marks it for manual contouring"


def available_structures() -> tuple[str, ...]:
    """Every TG-263 name some TotalSegmentator task of our naming table can produce, in table order."""
    return tuple(dict.fromkeys(m.tg263_name for m in load_tables().ts_map
                               if m.tg263_name is not None and m.status != NO_EQUIVALENT))


def plan_tasks(names: Sequence[str], *, fast: bool = False, template: str | None = None) -> TSPlan:
    """Group the wanted TG-263 names into TotalSegmentator runs.

    Parameters
    ----------
    names
        TG-263 names to produce (duplicates are dropped, first occurrence wins).
    fast
        Ask for the low-resolution models; the preflight warns for tasks that do not allow it.
    template
        A site template id (``"HN"``): its rows decide the task and classes of each of its
        structures (a ``classical`` or ``manual`` row makes the name unavailable here). Names not in
        the template fall back to the naming table.

    Returns
    -------
    TSPlan
        Runs ordered ``total``, ``total_mr``, then the other tasks in table order; names no task
        provides are in ``unavailable`` with the reason.

    Raises
    ------
    InputError
        Unknown template id.
    """
    tables = load_tables()
    entries = _template_entries(tables, template)
    order = _task_order(tables)
    chosen: dict[str, tuple[str, tuple[str, ...]]] = {}
    unavailable: dict[str, str] = {}
    for name in dict.fromkeys(names):
        source = _from_template(entries[name]) if name in entries else _from_table(tables, name, order)
        if isinstance(source, str):
            unavailable[name] = source
        else:
            chosen[name] = source
    runs = _group(chosen, fast, order)
    logger.debug("TotalSegmentator plan: %s; %d name(s) unavailable", ", ".join(r.task for r in runs), len(unavailable))
    return TSPlan(runs, unavailable)


def _template_entries(tables: NamingTables, template: str | None) -> dict[str, TemplateEntry]:
    if template is None:
        return {}
    return {e.tg263_name: e for e in tables.require_template(template)}


def _from_template(entry: TemplateEntry) -> tuple[str, tuple[str, ...]] | str:
    if entry.source == "totalsegmentator" and entry.ts_task:
        return entry.ts_task, entry.ts_classes
    return REASON_CLASSICAL if entry.source == "classical" else REASON_MANUAL


def _from_table(tables: NamingTables, name: str, order: dict[str, int]) -> tuple[str, tuple[str, ...]] | str:
    rows = [m for m in tables.ts_map if m.tg263_name == name and m.status != NO_EQUIVALENT]
    if not rows:
        known = tables.primary_name(name) is not None or tables.is_constructed(name)
        return REASON_NO_TASK if known else REASON_UNKNOWN
    best = min(rows, key=lambda m: _preference(m, order))
    return best.ts_task, best.components


def _preference(mapping: TSMapping, order: dict[str, int]) -> tuple[bool, bool, bool, int]:
    task = mapping.ts_task
    return task in LICENSED_TASKS, task.endswith("_mr"), task != "total", order[task]


def _task_order(tables: NamingTables) -> dict[str, int]:
    """``total``, ``total_mr``, then the tasks in the order they first appear in the table."""
    tasks = list(ROI_SUBSET_TASKS) + [m.ts_task for m in tables.ts_map]
    return {task: index for index, task in enumerate(dict.fromkeys(tasks))}


def _group(chosen: dict[str, tuple[str, tuple[str, ...]]], fast: bool, order: dict[str, int]) -> tuple[TSTaskRun, ...]:
    by_task: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for name, (task, classes) in chosen.items():
        by_task.setdefault(task, []).append((name, classes))
    runs = []
    for task in sorted(by_task, key=lambda t: (order.get(t, len(order)), t)):
        members = by_task[task]
        roi_subset = _roi_subset(c for _, c in members) if task in ROI_SUBSET_TASKS else None
        runs.append(TSTaskRun(task, roi_subset, tuple(name for name, _ in members), fast))
    return tuple(runs)


def _roi_subset(class_groups: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(sorted({c for classes in class_groups for c in classes}))


__all__ = ["REASON_CLASSICAL", "REASON_MANUAL", "REASON_NO_TASK", "REASON_UNKNOWN", "available_structures",
           "plan_tasks"]
