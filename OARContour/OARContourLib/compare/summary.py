"""Say in words, to the person whose contour is the test, how it differs from the reference.

"Your Parotid_L is 4.1 mm larger left–right on average: it reaches 3.0 mm farther toward the
patient's left and 1.1 mm farther toward the patient's right." Directions come from DICOM patient
coordinates (LPS), which are fixed to the patient, so they hold for every patient position.
Differences under :data:`NOTICEABLE_MM` (or half a voxel along the axis) are not worth a sentence.
"""

from __future__ import annotations

import numpy as np

from .directional import DIRECTIONS, EXTENTS, AxisExtension
from .result import PairResult

#: Smallest mean difference in mm that a sentence mentions.
NOTICEABLE_MM = 1.0


def summary_sentences(pair: PairResult, tolerance_mm: float) -> list[str]:
    """Plain-language sentences about one pair, most important first."""
    m, name = pair.metrics, pair.test
    if m.volume_test_cc == 0 or m.volume_reference_cc == 0:
        return [f"Your {name} is empty." if m.volume_test_cc == 0 else
                f"The reference {pair.reference} is empty; yours has {m.volume_test_cc:.1f} cm³."]
    sentences = [f"Your {name} overlaps the reference {pair.reference} with Dice {m.dice:.2f}; "
                 f"{(m.surface_dice or 0.0):.0%} of the surfaces lie within {tolerance_mm:g} mm of each other."]
    sentences.append(_volume_sentence(name, m.volume_test_cc, m.volume_reference_cc))
    sentences += [_extent_sentence(name, e) for e in pair.extensions if abs(e.size_change_mm) >= NOTICEABLE_MM]
    shift = _shift_sentence(m.centroid_shift_mm)
    if shift:
        sentences.append(shift)
    if m.slices_only_reference or m.slices_only_test:
        sentences.append(f"The reference has it on {len(m.slices_only_reference)} slice(s) where yours has nothing; "
                         f"yours is on {len(m.slices_only_test)} slice(s) without the reference.")
    if m.apl_mm > 0:
        sentences.append(f"{m.apl_mm / 10:.1f} cm of your contour lies more than {tolerance_mm:g} mm from the "
                         "reference's on the same slice (added path length: what an editor would redraw).")
    return sentences


def _volume_sentence(name: str, test_cc: float, reference_cc: float) -> str:
    change = test_cc / reference_cc - 1.0
    if abs(change) < 0.05:
        return f"Its volume ({test_cc:.1f} cm³) is within 5 % of the reference's ({reference_cc:.1f} cm³)."
    word = "larger" if change > 0 else "smaller"
    return f"Your {name} is {abs(change):.0%} {word} by volume ({test_cc:.1f} cm³ against {reference_cc:.1f} cm³)."


def _extent_sentence(name: str, extension: AxisExtension) -> str:
    size = extension.size_change_mm
    minus, plus = DIRECTIONS[extension.axis]
    ends = [_reach(extension.toward_plus_mm, plus), _reach(extension.toward_minus_mm, minus)]
    return (f"Your {name} is {abs(size):.1f} mm {'larger' if size > 0 else 'smaller'} {EXTENTS[extension.axis]} "
            f"on average: {' and '.join(ends)}.")


def _reach(mm: float, direction: str) -> str:
    if abs(mm) < 0.05:
        return f"it ends where the reference does toward {direction}"
    return f"it reaches {abs(mm):.1f} mm {'farther' if mm > 0 else 'less far'} toward {direction}"


def _shift_sentence(shift: tuple[float, float, float] | None) -> str:
    if shift is None or float(np.linalg.norm(shift)) < NOTICEABLE_MM:
        return ""
    parts = [f"{abs(value):.1f} mm toward {DIRECTIONS[axis][value > 0]}"
             for axis, value in enumerate(shift) if abs(value) >= NOTICEABLE_MM / 2]
    return f"Its centre lies {' and '.join(parts)} compared with the reference's."
