"""Benchmark: the classical engine scored against references the team did not draw.

Cases: TotalSegmentator's own real CTs and its outputs (lungs, spinal cord, vertebrae, every class
it found; also cropped around the right lung with and without the spine, as a scan cropped around a
tumour), the real IBSI STS_002 CT with its clinical GTV, the 4-slice Visible Human neck with its
clinical (Eclipse/ARIA) BODY and SpinalCord, and the phantom, plain and modified as
real scans differ (tumour, effusion, touching lungs, a crop around one lung). Every case is also
run in 6 orientation variants (feet-first, prone, negated row or column cosines, reversed slices):
results mapped back must agree in patient space (Dice >= 0.99) and every lung must be on its true side.

Scores use :mod:`OARContourLib.metrics` (Dice, HD95, surface Dice at 2 mm). SpinalCanal is scored
against TotalSegmentator's spinal cord as containment (the canal holds the cord; Dice would measure
the epidural space), Body as the share of every TotalSegmentator class (or the GTV) inside it, Bone
by Dice against TotalSegmentator's bone classes and as the share of its vertebrae inside Bone.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # Testing/, for testsupport when run as a script

from OARContourLib.autoseg import segment_classical  # noqa: E402
from OARContourLib.metrics import compare_masks, dice  # noqa: E402
from testsupport import autoseg_cases as cases  # noqa: E402

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data"
LUNGS = ("Lung_L", "Lung_R")
AGREEMENT_GOAL = 0.99


@dataclass(frozen=True)
class Row:
    """One case × structure line of the table."""

    case: str
    structure: str
    reference: str
    dice: float | None = None
    hd95_mm: float | None = None
    surface_dice: float | None = None
    contained: float | None = None
    side: str = ""
    note: str = ""


def evaluation_cases(shared: Path = SHARED) -> list[cases.Case]:
    """The real CTs first, then the phantom plain and modified."""
    base = cases.phantom_case("phantom")
    thorax = cases.totalsegmentator_thorax_case(shared)
    return [
        thorax,
        cases.cropped_to_right_side(True)(thorax),
        cases.cropped_to_right_side(False)(thorax),
        cases.totalsegmentator_abdomen_case(shared),
        cases.ibsi_case(shared),
        cases.varian_case(shared),
        base,
        cases.phantom_case("phantom + tumour beside right lung", cases.tumour_next_to_right_lung),
        cases.phantom_case("phantom + effusion in left lung", cases.effusion_in_left_lung),
        cases.phantom_case("phantom + touching lungs", cases.touching_lungs),
        cases.cropped_to_right_side(False)(base),
        cases.phantom_case("phantom head and neck", variant="headneck", slice_spacing_mm=6.0),
    ]


def side_correct(case: cases.Case, masks: dict[str, np.ndarray]) -> dict[str, bool]:
    """Per lung produced: on its true side (more of its own reference than of the other's), and not invented."""
    verdict = {}
    for name in LUNGS:
        if name not in masks:
            continue
        other = "Lung_R" if name == "Lung_L" else "Lung_L"
        if name not in case.references:
            verdict[name] = False  # a side produced that is not in the image
            continue
        own = int((masks[name] & case.references[name]).sum())
        wrong = int((masks[name] & case.references[other]).sum()) if other in case.references else 0
        verdict[name] = own > 10 * wrong
    return verdict


def score_case(case: cases.Case, masks: dict[str, np.ndarray], skipped: dict[str, str]) -> list[Row]:
    rows: list[Row] = []
    sides = side_correct(case, masks)
    refs, geometry = case.references, case.geometry
    for name in (*LUNGS, "Lungs", "SpinalCanal", "Body", "Bone"):
        reference = refs.get(name)
        if name == "Lungs" and "Lung_L" in refs and "Lung_R" in refs:
            reference = refs["Lung_L"] | refs["Lung_R"]
        if name == "Bone":
            reference = refs.get("Skeleton")  # TotalSegmentator's bone classes, costal cartilage left out
        made = masks.get(name)
        if reference is not None:
            if made is None:
                rows.append(Row(case.name, name, case.source, 0.0, note=f"missing: {skipped.get(name, '?')}"))
                continue
            c = compare_masks(reference, made, geometry, tolerance_mm=2.0)
            side = "" if name not in LUNGS else ("yes" if sides.get(name) else "NO")
            rows.append(Row(case.name, name, case.source, c.dice, c.hd95_mm, c.surface_dice, side=side))
        elif name in LUNGS and made is not None:
            rows.append(Row(case.name, name, "(not in the image)", side="NO", note="produced without reference"))
        elif name in LUNGS:
            rows.append(Row(case.name, name, "(not in the image)", side="yes", note=f"skipped: {skipped.get(name, '')}"))
    rows += _containment_rows(case, masks, skipped)
    return rows


def _containment_rows(case: cases.Case, masks: dict[str, np.ndarray], skipped: dict[str, str]) -> list[Row]:
    rows = []
    pairs = (("SpinalCanal", "SpinalCord", "cord inside canal"), ("Bone", "Vertebrae", "vertebrae inside Bone"),
             ("Body", "AllClasses", "every TS class inside Body"), ("Body", "GTV", "GTV inside Body"))
    for name, ref_name, label in pairs:
        reference = case.references.get(ref_name)
        if reference is None:
            continue
        made = masks.get(name)
        share = 0.0 if made is None else float((made & reference).sum()) / max(int(reference.sum()), 1)
        slices = "" if made is None else (f"on {int((made.any(axis=(1, 2)) & reference.any(axis=(1, 2))).sum())}"
                                          f"/{int(reference.any(axis=(1, 2)).sum())} slices")
        rows.append(Row(case.name, name, f"{ref_name} ({case.source})", contained=share,
                        note=label + (f", {slices}" if slices else f", missing: {skipped.get(name, '?')}")))
    return rows


def orientation_check(case: cases.Case, original: dict[str, np.ndarray]) -> tuple[float, int, int]:
    """(lowest patient-space Dice of any structure over the variants, variants with true sides, variants)."""
    lowest, true_sides, variants = 1.0, 0, 0
    for orientation in cases.ORIENTATIONS:
        if orientation == "HFS":
            continue
        variant = cases.reoriented(case, orientation)
        masks = segment_classical(variant.ct).masks
        variants += 1
        same_names = set(masks) == set(original)
        agreement = [dice(original[n], cases.back_to_original(m, orientation)) for n, m in masks.items() if n in original]
        lowest = min([lowest, *agreement]) if same_names else 0.0
        true_sides += all(side_correct(variant, masks).values())
    return lowest, true_sides, variants


def run(shared: Path = SHARED) -> dict[str, object]:
    started = time.perf_counter()
    rows: list[Row] = []
    variants = []
    for case in evaluation_cases(shared):
        result = segment_classical(case.ct)
        rows += score_case(case, result.masks, result.skipped)
        lowest, true_sides, count = orientation_check(case, result.masks)
        variants.append({"case": case.name, "min_agreement_dice": round(lowest, 4), "sides_true": true_sides,
                         "variants": count, "met": lowest >= AGREEMENT_GOAL and true_sides == count})
    return {"benchmark": "classical autoseg evaluation", "rows": [r.__dict__ for r in rows], "variants": variants,
            "seconds": round(time.perf_counter() - started, 1)}


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_table(result: dict[str, object]) -> None:
    print(f"\nclassical engine vs references from outside the team ({result['seconds']} s)")
    print(f"{'case':<40} {'structure':<12} {'Dice':>6} {'HD95mm':>7} {'sDice2':>6} {'inside':>6} {'side':>4}  reference / note")
    for row in result["rows"]:  # type: ignore[attr-defined]
        print(f"{row['case'][:40]:<40} {row['structure']:<12} {_fmt(row['dice']):>6} {_fmt(row['hd95_mm'], 1):>7} "
              f"{_fmt(row['surface_dice']):>6} {_fmt(row['contained']):>6} {row['side'] or '':>4}  "
              f"{row['reference']}{'; ' + row['note'] if row['note'] else ''}")
    print(f"\n{'orientation variants (6 per case)':<40} {'min Dice':>8} {'sides true':>10}  goal Dice >= {AGREEMENT_GOAL}")
    for v in result["variants"]:  # type: ignore[attr-defined]
        print(f"{v['case'][:40]:<40} {v['min_agreement_dice']:>8} {str(v['sides_true']) + '/' + str(v['variants']):>10}  "
              f"{'met' if v['met'] else 'NOT met'}")


if __name__ == "__main__":
    print_table(run())
