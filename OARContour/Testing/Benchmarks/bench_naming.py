"""Benchmark: accuracy of the TG-263 name resolver on the labelled set and on the UW alias list.

Goals: top-1 accuracy ≥ 97 % on the labelled cases with an expected name, 0 laterality errors
(a suggestion with the wrong side, or with a side the input never stated), no negative case
applied automatically. The UW alias list (GPLv3) is read from ../shared at run time as test data
only and scored separately; rows that cannot be scored fairly are counted, not scored.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from OARContourLib.naming.tables import load_tables

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # Testing/, for testsupport when run as a script

from testsupport.naming_cases import build_cases  # noqa: E402
from testsupport.naming_scoring import evaluate, evaluate_uw  # noqa: E402

GOAL_TOP1 = 0.97


def run(cache: Path | None = None) -> dict[str, Any]:
    """Both evaluations (``cache`` is unused; kept for the runner's common signature)."""
    tables = load_tables()
    labelled = evaluate(build_cases(), tables)
    return {"benchmark": "TG-263 name resolver", "labelled": labelled, "uw": evaluate_uw(tables),
            "goal_top1": GOAL_TOP1,
            "met": labelled["top1_accuracy"] >= GOAL_TOP1 and labelled["laterality_errors"] == 0
            and not labelled["negatives_auto_applied"]}


def print_table(result: dict[str, Any]) -> None:
    """The accuracy table of ``make bench``."""
    labelled, uw = result["labelled"], result["uw"]
    print(f"\n{'name resolver':<40} {'value':>12} {'goal':>10}")
    rows = [
        ("labelled cases (with expected name)", f"{labelled['cases']} ({labelled['with_expected']})", ""),
        ("top-1 accuracy", f"{labelled['top1_accuracy']:.1%}", f">= {GOAL_TOP1:.0%}"),
        ("laterality errors", str(labelled["laterality_errors"]), "0"),
        ("negatives applied automatically", str(len(labelled["negatives_auto_applied"])), "0"),
        ("wrong names applied automatically", str(len(labelled["wrong_auto_applied"])), ""),
        ("left for human review (top < 0.9)", f"{labelled['review_share']:.1%}", ""),
        ("time per name (ms)", f"{labelled['ms_per_name']:.2f}", ""),
    ]
    if uw is not None:
        rows += [("UW aliases scored (of all)", f"{uw['usable']} ({uw['aliases']})", ""),
                 ("UW top-1 accuracy", f"{uw['top1_accuracy']:.1%}", ""),
                 ("UW laterality errors (all aliases)", str(uw["laterality_errors"]), "0"),
                 ("UW left for human review", f"{uw['review_share']:.1%}", "")]
    else:
        rows.append(("UW aliases", "not found", ""))
    for label, value, goal in rows:
        print(f"{label:<40} {value:>12} {goal:>10}")
    print(f"{'met':<40} {'yes' if result['met'] else 'NO':>12}", flush=True)


if __name__ == "__main__":
    outcome = run()
    print_table(outcome)
    for text, expected, got in outcome["labelled"]["wrong"]:
        print(f"  wrong: {text!r}: expected {expected}, got {got}")
