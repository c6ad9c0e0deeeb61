"""QA rules on left/right: each ``*_L``/``*_R`` structure on its side of the body midline (in LPS)."""

from __future__ import annotations

from ..ct.problems import Severity
from ..findings import Finding
from ..rtstruct.model import Structure
from .context import QAContext
from .rule import QARule

SIDE_WORDS = {"_L": "left", "_R": "right"}


def swapped_pairs(context: QAContext) -> list[tuple[Structure, Structure]]:
    """(``X_L``, ``X_R``) pairs where both lie on the wrong side."""
    by_name = {s.name: s for s in context.structures}
    pairs = []
    for name, left in by_name.items():
        right = by_name.get(name[:-2] + "_R")
        if name.endswith("_L") and right is not None and context.side_is_wrong(left) \
                and context.side_is_wrong(right):
            pairs.append((left, right))
    return pairs


class Laterality(QARule):
    """A lateral structure on the wrong side (pairs swapped as a whole are :class:`SwappedPair`)."""

    code = "LATERALITY"
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
    """``X_L`` and ``X_R`` both on the wrong side: the names are swapped."""

    code = "SWAPPED_PAIR"
    severity = Severity.ERROR
    hint = "Swap the names of the two structures."

    def check(self, context: QAContext) -> list[Finding]:
        return [self.finding(f"'{left.name}' and '{right.name}' are swapped: each lies on the other's side.",
                             left.name) for left, right in swapped_pairs(context)]
