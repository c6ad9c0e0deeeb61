"""What an auto-segmentation run returns, whichever engine produced it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..findings import Finding
from ..mask_block import crop
from ..naming.appearance import appearance
from ..rtstruct.model import GenerationAlgorithm, Structure

#: ROI Generation Description (3006,0038) is LO: at most 64 characters.
DESCRIPTION_MAX_CHARS = 64
#: Reasons for skipped structures that scripts can match on.
REASON_MANUAL = "manual"
REASON_NEEDS_TOTALSEGMENTATOR = "needs TotalSegmentator"
REASON_NEEDS_CLASSICAL = "needs the classical engine"


@dataclass(frozen=True)
class AutosegResult:
    """TG-263 structures (cropped masks on the CT grid) plus what was skipped and why, and provenance.

    ``produced`` maps each structure name to a short note (voxel count); ``skipped`` maps a name to
    the reason it is absent (``"manual"``, ``"needs TotalSegmentator"``, no voxels, no equivalent ...).
    """

    structures: tuple[Structure, ...]
    skipped: dict[str, str]
    provenance: dict[str, Any]
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def produced(self) -> dict[str, int]:
        """Structure name → voxel count."""
        return {s.name: int(np.count_nonzero(s.mask)) for s in self.structures}

    def structure(self, name: str) -> Structure | None:
        return next((s for s in self.structures if s.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (voxel counts instead of arrays)."""
        return {"produced": [{"name": s.name, "roi_type": s.roi_type.value, "color": list(s.color),
                              "voxels": int(np.count_nonzero(s.mask)), "algorithm": s.algorithm.value,
                              "description": s.description} for s in self.structures],
                "skipped": dict(self.skipped), "provenance": dict(self.provenance),
                "findings": [f.to_dict() for f in self.findings]}


def description_for(engine: str, version: str, task: str | None = None) -> str:
    """ROI Generation Description text, e.g. ``OARContour classical 1.2`` (≤ 64 characters)."""
    text = f"OARContour {engine} {version}" + (f" task {task}" if task else "")
    return text[:DESCRIPTION_MAX_CHARS]


def make_structure(name: str, mask: np.ndarray, description: str,
                   offset_kji: tuple[int, int, int] | None = None) -> Structure:
    """An AUTOMATIC structure with colour and RT ROI type from the naming tables, cropped to its box.

    ``mask`` is the full CT grid when ``offset_kji`` is None, else a block at that offset.
    """
    block, offset = crop(mask.astype(bool, copy=False))
    if offset_kji is not None and block.size:
        offset = (offset[0] + offset_kji[0], offset[1] + offset_kji[1], offset[2] + offset_kji[2])
    look = appearance(name)
    return Structure(name, block, offset, look.color, look.roi_type, GenerationAlgorithm.AUTOMATIC, description,
                     look.code)


