"""Round-trip fidelity: the contours, rasterised on the CT grid, against the masks they came from.

Runs only when the caller passes ``source_masks`` (ROI name -> ``(K, J, I)`` bool mask on the CT
grid, or a :class:`~OARContourLib.mask_block.MaskBlock` of it). Both sides are compared as blocks,
so 100+ structures on a large grid never need a full-grid array each. Rasterisation is even-odd on voxel centres (:mod:`..rasterize`), which reproduces masks
exported as voxel-boundary contours exactly, so any Dice below 0.99 means lost or moved voxels.
"""

from __future__ import annotations

import numpy as np

from ...findings import Finding, Severity
from ...mask_block import MaskBlock
from ...metrics import block_dice
from .base import Rule
from .context import VerificationContext

MIN_DICE = 0.99


def dice_scores(context: VerificationContext) -> dict[str, float]:
    """Dice per source mask that has an ROI of the same name in the file."""
    if not context.source_masks:
        return {}
    names = {roi.name for roi in context.rois}
    return {name: block_dice(as_block(mask), context.roi_block(name))
            for name, mask in context.source_masks.items() if name in names}


def as_block(mask: np.ndarray | MaskBlock) -> MaskBlock:
    """A source mask as a block (full-grid arrays are cropped)."""
    return mask if isinstance(mask, MaskBlock) else MaskBlock.of(mask)


class RoundTripDiceRule(Rule):
    code = "ROUND_TRIP_DICE_LOW"
    severity = Severity.ERROR
    description = "With source masks: each ROI's contours rasterise back to its mask (Dice >= 0.99)."
    hint = "The contours do not reproduce the mask: check simplification, hole encoding and slice placement."

    def check(self, context: VerificationContext) -> list[Finding]:
        return [self.finding(f"ROI '{name}': contours rasterise to Dice {score:.4f} against the source mask "
                             f"(minimum {MIN_DICE}).", roi_name=name)
                for name, score in dice_scores(context).items() if score < MIN_DICE]


class RoundTripRoiRule(Rule):
    code = "ROUND_TRIP_ROI_MISSING"
    severity = Severity.ERROR
    description = "With source masks: every non-empty source mask has an ROI of the same name."
    hint = "A structure was lost on export, or renamed; export it again."

    def check(self, context: VerificationContext) -> list[Finding]:
        names = {roi.name for roi in context.rois}
        return [self.finding(f"Source mask '{name}' ({voxels} voxels) has no ROI in the file.", roi_name=name)
                for name, mask in (context.source_masks or {}).items()
                if name not in names and (voxels := as_block(mask).voxels)]


RULES: tuple[type[Rule], ...] = (RoundTripDiceRule, RoundTripRoiRule)
