"""Automatic OAR segmentation engines.

:func:`segment_classical` needs no model weights: it derives Body, Lung_L, Lung_R, Lungs, Trachea,
SpinalCanal and Bone from thresholds, connected components and morphology on the CT's native grid.
Its masks are AUTOMATIC contours for clinical review, never final. :func:`run_autoseg` is the one
interface the CLI and the Slicer Logic use; :func:`import_totalsegmentator_output` maps existing
TotalSegmentator outputs to TG-263 structures on the CT grid.
"""

from __future__ import annotations

from .classical import SUPPORTED_STRUCTURES, ClassicalResult, ClassicalSettings, segment_classical
from .engine import run_autoseg
from .result import AutosegResult
from .totalsegmentator_outputs import import_totalsegmentator_output

__all__ = ["SUPPORTED_STRUCTURES", "AutosegResult", "ClassicalResult", "ClassicalSettings",
           "import_totalsegmentator_output", "run_autoseg", "segment_classical"]
