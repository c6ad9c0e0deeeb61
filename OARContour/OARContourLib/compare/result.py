"""What ``compare`` returns: one result per paired structure, plus the unpaired names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..metrics import MaskComparison
from .directional import AxisExtension

SCHEMA = "oarcontour.compare/1"


@dataclass(frozen=True)
class PairResult:
    """The metrics of one reference/test pair and where they disagree most.

    ``worst_slice_k`` is the CT slice (k of the (k, j, i) grid, as in Slicer's volume) with the most
    voxels in exactly one of the two masks; None when they agree everywhere.
    """

    reference: str
    test: str
    metrics: MaskComparison
    worst_slice_k: int | None
    extensions: tuple[AxisExtension, ...]

    def to_dict(self) -> dict[str, Any]:
        """The pair as the ``oarcontour.compare/1`` schema lists it."""
        m = self.metrics
        return {"reference": self.reference, "test": self.test, "dice": m.dice, "hd95_mm": m.hd95_mm,
                "hd_max_mm": m.hd_max_mm, "msd_mm": m.msd_mm, "surface_dice": m.surface_dice, "apl_mm": m.apl_mm,
                "volume_reference_cc": m.volume_reference_cc, "volume_test_cc": m.volume_test_cc,
                "centroid_shift_mm": None if m.centroid_shift_mm is None else list(m.centroid_shift_mm)}


@dataclass(frozen=True)
class ComparisonResult:
    """Every pair in reference order and the structures that found no partner."""

    tolerance_mm: float
    pairs: tuple[PairResult, ...]
    unpaired_reference: tuple[str, ...]
    unpaired_test: tuple[str, ...]

    def pair(self, reference_name: str) -> PairResult:
        """The pair of a reference structure; KeyError if it is unpaired."""
        for pair in self.pairs:
            if pair.reference == reference_name:
                return pair
        raise KeyError(reference_name)

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "tolerance_mm": self.tolerance_mm, "pairs": [p.to_dict() for p in self.pairs],
                "unpaired_reference": list(self.unpaired_reference), "unpaired_test": list(self.unpaired_test)}
