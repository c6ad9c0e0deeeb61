"""The classical engine as a plug-in: template selection, then :func:`.classical.segment_classical`."""

from __future__ import annotations

import time

from ..ct.model import CTVolume
from ..progress import ProgressCallback
from .classical import ENGINE_VERSION, SUPPORTED_STRUCTURES, segment_classical
from .request import AutosegRequest, EnginePreflight
from .result import AutosegResult, description_for, make_structure
from .selection import CLASSICAL, select_structures


class ClassicalEngine:
    """Thresholds and morphology on the CT's own grid; nothing to download, nothing to check first."""

    name = CLASSICAL
    label = "Classical (CPU, no model)"

    def structures(self) -> tuple[str, ...]:
        return tuple(SUPPORTED_STRUCTURES)

    def preflight(self, ct: CTVolume, request: AutosegRequest) -> EnginePreflight | None:
        return None

    def segment(self, ct: CTVolume, request: AutosegRequest,
                progress: ProgressCallback | None = None) -> AutosegResult:
        """The wanted structures; template names it cannot make and empty ones are in ``skipped``."""
        started = time.perf_counter()
        wanted, skipped = select_structures(self.name, self.structures(), request.template, request.structures)
        result = segment_classical(ct, wanted, progress) if wanted else None
        description = description_for(self.name, ENGINE_VERSION)
        made = []
        if result is not None:
            skipped.update(result.skipped)
            for name in wanted:
                mask = result.masks.get(name)
                if mask is None:
                    skipped.setdefault(name, "not produced")
                elif not mask.any():
                    skipped[name] = "empty: no voxels found"
                else:
                    made.append(make_structure(name, mask, description))
        provenance = {"engine": self.name, "version": ENGINE_VERSION, "template": request.template,
                      "settings": result.provenance.get("settings", {}) if result else {},
                      "seconds": round(time.perf_counter() - started, 3)}
        return AutosegResult(tuple(made), skipped, provenance)
