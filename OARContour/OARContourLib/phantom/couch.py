"""The CT table: a curved carbon-fibre shell around a foam core, under the patient with an air gap.

The couch is defined in the scanner frame (always toward the floor), so it lies posterior to a
supine patient and anterior to a prone one. It is never part of ``Body``: a Body recipe has to
remove it, as it must on every clinical CT.
"""

from __future__ import annotations

import logging

from . import tissues
from .scene import Layer
from .surfaces import CurvedPlate

logger = logging.getLogger(__name__)

AIR_GAP_MM = 12.0
SHELL_MM = 2.5
THICKNESS_MM = 42.0
HALF_WIDTH_MM = 205.0
#: Rise of the shell at its edges: 1/1600 per mm gives about 26 mm at +-205 mm.
CURVATURE_PER_MM = 1.0 / 1600.0


def couch_layers(lowest_body_depth_mm: float, down: float) -> list[Layer]:
    """Shell then core, ``AIR_GAP_MM`` below the patient's lowest point (depth toward the floor, mm)."""
    top = lowest_body_depth_mm + AIR_GAP_MM

    def plate(d0: float, d1: float, half_width: float) -> CurvedPlate:
        return CurvedPlate(down, top, CURVATURE_PER_MM, d0, d1, half_width)

    shell = plate(0.0, THICKNESS_MM, HALF_WIDTH_MM)
    core = plate(SHELL_MM, THICKNESS_MM - SHELL_MM, HALF_WIDTH_MM - SHELL_MM)
    return [
        Layer("couch_shell", shell, tissues.COUCH_SHELL, in_body=False),
        Layer("couch_core", core, tissues.COUCH_FOAM, in_body=False),
    ]
