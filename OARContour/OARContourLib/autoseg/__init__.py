"""Automatic OAR segmentation engines.

:func:`segment_classical` needs no model weights: it derives Body, Lung_L, Lung_R, Lungs, Trachea,
SpinalCanal and Bone from thresholds, connected components and morphology on the CT's native grid.
Its masks are AUTOMATIC contours for clinical review, never final.
"""

from __future__ import annotations

from .classical import SUPPORTED_STRUCTURES, ClassicalResult, ClassicalSettings, segment_classical

__all__ = ["SUPPORTED_STRUCTURES", "ClassicalResult", "ClassicalSettings", "segment_classical"]
