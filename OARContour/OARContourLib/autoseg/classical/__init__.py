"""Classical (no model weights) auto-segmentation: one recipe per module, run by :mod:`.engine`."""

from __future__ import annotations

from .engine import ENGINE_VERSION, SUPPORTED_STRUCTURES, ClassicalResult, segment_classical
from .settings import ClassicalSettings

__all__ = ["ENGINE_VERSION", "SUPPORTED_STRUCTURES", "ClassicalResult", "ClassicalSettings", "segment_classical"]
