"""Scoring of the name resolver on labelled cases: shared by the quality-gate test and ``make bench``."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from OARContourLib.naming.laterality import side_of_name
from OARContourLib.naming.resolve import AUTO_APPLY_CONFIDENCE, Suggestion, suggest
from OARContourLib.naming.tables import NamingTables

from .naming_cases import NamingCase, uw_cases

#: The UW RayStation alias list (GPLv3): read from ../shared as test data, never copied into the repository.
UW_FILE = Path(__file__).resolve().parents[3].parent / "shared" / "naming" / "UW_TG263_colors_types_aliases.csv"


def side_errors(suggestions: list[Suggestion], stated_side: str) -> list[str]:
    """Suggestions whose side differs from the side the input states (including an invented side)."""
    return [s.name for s in suggestions if side_of_name(s.name).value not in ("", stated_side)]


def evaluate(cases: list[NamingCase], tables: NamingTables) -> dict[str, Any]:
    """Score ``suggest`` on labelled cases; returns counts, rates and the failing cases."""
    positives = [c for c in cases if c.expected is not None]
    wrong, side_failures, wrong_auto, negatives_auto = [], [], [], []
    review = 0
    started = time.perf_counter()
    for case in cases:
        found = suggest(case.text, tables)
        top = found[0] if found else None
        if top is None or top.confidence < AUTO_APPLY_CONFIDENCE:
            review += 1
        if errors := side_errors(found, case.side):
            side_failures.append((case.text, errors))
        if case.expected is None:
            if top is not None and top.auto_apply:
                negatives_auto.append((case.text, top.name))
            continue
        if top is None or top.name != case.expected:
            wrong.append((case.text, case.expected, top.name if top else None))
        if top is not None and top.auto_apply and top.name != case.expected:
            wrong_auto.append((case.text, case.expected, top.name))
    seconds = time.perf_counter() - started
    return {"cases": len(cases), "with_expected": len(positives), "top1_correct": len(positives) - len(wrong),
            "top1_accuracy": (len(positives) - len(wrong)) / max(len(positives), 1),
            "laterality_errors": sum(len(e) for _, e in side_failures), "laterality_failures": side_failures,
            "review_share": review / max(len(cases), 1), "wrong": wrong, "wrong_auto_applied": wrong_auto,
            "negatives_auto_applied": negatives_auto, "ms_per_name": 1000 * seconds / max(len(cases), 1),
            "groups": dict(Counter(c.group for c in cases))}


def evaluate_uw(tables: NamingTables, path: Path = UW_FILE) -> dict[str, Any] | None:
    """Score the UW aliases (None when the file is not beside the checkout)."""
    if not path.is_file():
        return None
    official = {n for n, e in tables.names.items() if e.kind != "template"}
    cases = uw_cases(path, official)
    usable = [c for c in cases if c.usable]
    correct, review, side_failures, wrong = 0, 0, [], []
    for case in cases:
        found = suggest(case.text, tables)
        if errors := side_errors(found, case.side):
            side_failures.append((case.text, errors))
        if not case.usable:
            continue
        top = found[0] if found else None
        correct += bool(top and top.name == case.expected)
        review += top is None or top.confidence < AUTO_APPLY_CONFIDENCE
        if not top or top.name != case.expected:
            wrong.append((case.text, case.expected, top.name if top else None))
    return {"aliases": len(cases), "usable": len(usable), "top1_correct": correct,
            "top1_accuracy": correct / max(len(usable), 1), "review_share": review / max(len(usable), 1),
            "laterality_errors": sum(len(e) for _, e in side_failures), "laterality_failures": side_failures,
            "excluded": dict(Counter(c.note for c in cases if not c.usable)), "wrong": wrong}
