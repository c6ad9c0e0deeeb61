"""Agreement between two structure masks on one CT grid: overlap, surface distances, editing effort.

One implementation, used everywhere (round-trip checks, the demo, ``oarcontour compare``): published
tools disagree by up to 50 % on the same data because their surface and percentile conventions
differ, so the conventions are stated once, in :mod:`.surface`, and tested on analytic shapes.
"""

from __future__ import annotations

from .comparison import MaskComparison, compare_masks
from .overlap import block_dice, dice

__all__ = ["MaskComparison", "block_dice", "compare_masks", "dice"]
