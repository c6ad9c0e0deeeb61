"""QA rules on left/right, in patient coordinates (LPS) for every patient position.

- :class:`Laterality`: a ``*_L``/``*_R`` structure mostly on the wrong side of the mid-sagittal plane
  (from the spinal canal or cord when contoured, else the body centre; see ``QAContext.midline``);
- :class:`SwappedPair`: both members of a pair on the wrong side;
- :class:`PairSameSide`: both members of a pair on one side;
- :class:`PairConnected`: the members overlap, or meet along a whole cross-section so that together
  they are one connected region: one organ split in two and named left and right (two touching
  lungs meet only along a thin junction and pass). Measured on the box spanning the two members'
  blocks, never on the whole CT grid.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..findings import Finding, Severity
from ..mask_block import paste
from ..rtstruct.model import Structure
from .context import QAContext
from .rule import QARule

SIDE_WORDS = {"_L": "left", "_R": "right"}
#: Contact (voxel faces) between the members, relative to the smaller member's size^(2/3), above which
#: they are one organ cut in two. A sphere halved gives about 1.9; two lungs at a junction line < 0.1.
SPLIT_CONTACT_RATIO = 0.3


def lateral_pairs(context: QAContext) -> list[tuple[Structure, Structure]]:
    """Every (``X_L``, ``X_R``) pair in the structure set whose members are both non-empty."""
    by_name = {s.name: s for s in context.structures if context.voxels(s)}
    return [(left, by_name[name[:-2] + "_R"]) for name, left in by_name.items()
            if name.endswith("_L") and name[:-2] + "_R" in by_name]


def swapped_pairs(context: QAContext) -> list[tuple[Structure, Structure]]:
    """(``X_L``, ``X_R``) pairs where both lie on the wrong side."""
    return [(left, right) for left, right in lateral_pairs(context)
            if context.side_is_wrong(left) and context.side_is_wrong(right)]


class Laterality(QARule):
    """A lateral structure on the wrong side (pairs swapped as a whole are :class:`SwappedPair`)."""

    code = "LATERALITY"
    description = "A lateral structure (X_L, X_R) lies on the wrong side of the patient's midline."
    severity = Severity.ERROR
    hint = "Check the side in the name against the image (patient left is +x in LPS)."

    def check(self, context: QAContext) -> list[Finding]:
        in_pairs = {s.name for pair in swapped_pairs(context) for s in pair}
        findings = []
        for structure in context.structures:
            if structure.name not in in_pairs and context.side_is_wrong(structure):
                side = SIDE_WORDS[structure.name[-2:]]
                findings.append(self.finding(f"'{structure.name}' is named {side} but its centroid lies on the "
                                             f"patient's other side of the midline.", structure.name))
        return findings


class SwappedPair(QARule):
    code = "SWAPPED_PAIR"
    description = "X_L and X_R both on the wrong side: the names are swapped."
    severity = Severity.ERROR
    hint = "Swap the names of the two structures."

    def check(self, context: QAContext) -> list[Finding]:
        return [self.finding(f"'{left.name}' and '{right.name}' are swapped: each lies on the other's side.",
                             left.name) for left, right in swapped_pairs(context)]


class PairSameSide(QARule):
    code = "PAIR_SAME_SIDE"
    description = "X_L and X_R both on one side of the patient's midline: one of them has the wrong side."
    severity = Severity.ERROR
    hint = "One of the pair is on the wrong side or is part of the other: review both against the image."

    def check(self, context: QAContext) -> list[Finding]:
        findings = []
        for left, right in lateral_pairs(context):
            sides = context.side(left), context.side(right)
            if sides[0] is not None and sides[0] == sides[1]:
                word = "left" if sides[0] > 0 else "right"
                findings.append(self.finding(f"'{left.name}' and '{right.name}' both lie on the patient's {word} "
                                             "side of the midline.", left.name))
        return findings


class PairConnected(QARule):
    code = "PAIR_CONNECTED"
    description = "X_L and X_R overlap or form one connected region: one organ cut in two and named twice."
    severity = Severity.ERROR
    hint = "A left/right pair must be two separate organs: merge the parts and name the organ by its side."

    def check(self, context: QAContext) -> list[Finding]:
        findings = []
        for left, right in lateral_pairs(context):
            if not _may_touch(left, right):
                continue  # a voxel or more apart on some axis: neither overlap nor contact
            left_mask, right_mask = pair_masks(left, right)
            overlap = int(np.count_nonzero(left_mask & right_mask))
            if overlap:
                findings.append(self.finding(f"'{left.name}' and '{right.name}' overlap ({overlap} voxels).",
                                             left.name))
            elif contact_ratio(left_mask, right_mask) > SPLIT_CONTACT_RATIO:
                findings.append(self.finding(f"'{left.name}' and '{right.name}' are one connected region: they meet "
                                             "along a whole cross-section, as one organ cut in two.", left.name))
        return findings


def _box(structure: Structure) -> tuple[np.ndarray, np.ndarray]:
    start = np.asarray(structure.offset_kji)
    return start, start + np.asarray(structure.mask.shape[:3])


def _may_touch(first: Structure, second: Structure) -> bool:
    """False when the blocks' boxes, each grown by one voxel, do not meet: no voxel faces the other."""
    (a_start, a_stop), (b_start, b_stop) = _box(first), _box(second)
    return bool(np.all(a_start <= b_stop) and np.all(b_start <= a_stop))


def pair_masks(first: Structure, second: Structure) -> tuple[np.ndarray, np.ndarray]:
    """Both masks on the smallest box holding both blocks, the same (k, j, i) window of the CT grid for each."""
    (a_start, a_stop), (b_start, b_stop) = _box(first), _box(second)
    start, stop = np.minimum(a_start, b_start), np.maximum(a_stop, b_stop)
    shape = tuple(int(n) for n in stop - start)

    def placed(structure: Structure) -> np.ndarray:
        return paste(structure.mask, tuple(int(o) for o in np.asarray(structure.offset_kji) - start), shape)

    return placed(first), placed(second)


def contact_ratio(first: np.ndarray, second: np.ndarray) -> float:
    """Voxels of ``first`` face-adjacent to ``second``, over the smaller mask's size^(2/3)."""
    contact = int(np.count_nonzero(first & ndimage.binary_dilation(second)))
    smaller = min(int(np.count_nonzero(first)), int(np.count_nonzero(second)))
    return contact / smaller ** (2.0 / 3.0) if smaller else 0.0
