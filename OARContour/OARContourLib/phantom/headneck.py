"""Head and neck, from just above the vertex to the lower neck (C7).

Coordinates are LPS millimetres with z = 0 through the centres of the eyes, y = 0 at the centre
of the cranial vault and x = 0 on the midline. The skull is a three-layer shell (outer table,
diploe, inner table) over a stepped base: anterior fossa above the orbits, middle fossa, and a
deep posterior fossa with the foramen magnum through which the brainstem becomes the cord.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from . import tissues
from .columns import Profile, ZColumn
from .face import face_layers
from .grid import ScanPlan
from .neck import neck_layers
from .scene import Anatomy, Layer, clipped_to
from .shapes import Difference, Ellipsoid, Intersection, Union, tube
from .surfaces import Above, Below, Surface
from .variation import Variation

logger = logging.getLogger(__name__)

#: 112 slices of 2.5 mm from +115 mm (above the vertex) to -162.5 mm (C7).
PLAN = ScanPlan(z_top_mm=115.0, slices=112, spacing_mm=2.5, table_height_mm=15.0)

STRUCTURES = (
    "Body", "Skin", "Brain", "Brainstem", "Eye_L", "Eye_R", "Lens_L", "Lens_R", "OpticNrv_L", "OpticNrv_R",
    "OpticChiasm", "Parotid_L", "Parotid_R", "Bone_Mandible", "Skull", "SpinalCanal", "SpinalCord", "VBs", "Bone",
    "Trachea", "Esophagus", "Glnd_Thyroid",
)

SKIN_MM = 2.5
SCALP_MM = 6.0
TABLE_MM = 2.0
SKULL_MM = 7.0
#: Thickness of the cranial floor (orbital roofs, fossae).
PLATE_MM = 3.0


@dataclass(frozen=True)
class SkullBase(Surface):
    """Floor of the cranial cavity: anterior, middle and posterior fossae joined by smooth steps in y."""

    anterior_z: float = 22.0
    middle_z: float = -14.0
    posterior_z: float = -40.0
    anterior_step_y: float = -28.0
    posterior_step_y: float = 22.0

    def z_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        front = 1.0 / (1.0 + np.exp((y - self.anterior_step_y) / 4.0))
        back = 1.0 / (1.0 + np.exp(-(y - self.posterior_step_y) / 5.0))
        x = np.asarray(x)
        # Orbital roofs bulge up either side of the lower cribriform plate; the middle fossa is a
        # pair of bowls, deepest under the temporal lobes. Curved floors cut by axial slices give
        # bands of bone, as on patient CT, instead of flat slabs.
        anterior = self.anterior_z - 4.0 + 7.0 * np.exp(-(((np.abs(x) - 30.0) / 16.0) ** 2))
        middle = self.middle_z + 8.0 * (1.0 - (x / 55.0) ** 2)
        return middle + (anterior - middle) * front + (self.posterior_z - middle) * back


def build(variation: Variation) -> Anatomy:
    """All head-and-neck layers in painting order."""
    scale = variation.scale(1.0, 0.025)
    bone_outer = Ellipsoid((0.0, 5.0, 22.0), (72.0 * scale, 94.0 * scale, 82.0 * scale), ripple=variation.ripple(0.01, 150))
    parts = _body_parts(variation, bone_outer)
    body = Union(parts)
    base = SkullBase(anterior_z=variation.mm(22.0, 1.0), posterior_z=variation.mm(-40.0, 1.5))
    layers = [
        Layer("subcutaneous_fat", body, tissues.FAT),
        Layer("muscle", Union(tuple(part.inset(4.0) for part in parts)), tissues.MUSCLE),
        *clipped_to(body, [*_skull(bone_outer, base), *_brain(variation, bone_outer, base), *face_layers(variation),
                           *neck_layers(variation)]),
        Layer("skin", Difference(body, Union(tuple(part.inset(SKIN_MM) for part in parts))), tissues.SKIN, ("Skin",)),
    ]
    return Anatomy(tuple(layers), STRUCTURES, body)


def _body_parts(variation: Variation, bone_outer: Ellipsoid) -> tuple[Ellipsoid | ZColumn, ...]:
    """Cranium with scalp, face, nose, the lower head at the ears, jaw and chin, and the neck."""
    cranium = bone_outer.inset(-SCALP_MM)
    face = Ellipsoid((0.0, -45.0, -25.0), (66.0, 55.0, 66.0), ripple=variation.ripple(0.015, 90.0))
    nose = Ellipsoid((0.0, -96.0, -24.0), (11.0, 17.0, 24.0))
    lower_head = Ellipsoid((0.0, 4.0, -28.0), (74.0, 78.0, 44.0))
    jaw = Ellipsoid((0.0, -32.0, -70.0), (66.0, 60.0, 28.0))
    chin = Ellipsoid((0.0, -80.0, -80.0), (38.0, 20.0, 16.0))
    neck = ZColumn(Profile.of([
        (-210.0, 0.0, 22.0, 115.0, 80.0, 2.4), (-168.0, 0.0, 15.0, 80.0, 68.0, 2.4), (-130.0, 0.0, 12.0, 60.0, 62.0, 2.2),
        (-90.0, 0.0, 10.0, 60.0, 63.0, 2.2), (-50.0, 0.0, 12.0, 63.0, 70.0, 2.2), (-20.0, 0.0, 18.0, 60.0, 66.0, 2.2),
    ]), -1000.0, -10.0)
    neck = variation.rippled(neck, 0.015, 120.0)
    return (cranium, face, nose, lower_head, jaw, chin, neck)


def _skull(bone_outer: Ellipsoid, base: SkullBase) -> list[Layer]:
    """Vault (tables and diploe), the stepped base plate and the foramen magnum."""
    inner = bone_outer.inset(SKULL_MM)
    above_base = Above(base, -SKULL_MM - 1.0)
    foramen = tube([(0.0, 28.0, -20.0), (0.0, 28.0, -80.0)], 17.0)
    vault = Difference(bone_outer, inner) & above_base
    plate = Intersection((bone_outer, Above(base, -PLATE_MM), Below(base)))
    diploe = Difference(bone_outer.inset(TABLE_MM), inner.inset(-TABLE_MM)) & Above(base, -SKULL_MM + TABLE_MM)
    return [
        Layer("skull_tables", Difference(Union((vault, plate)), foramen), tissues.CORTICAL_BONE, ("Skull", "Bone")),
        Layer("skull_diploe", Difference(diploe, foramen), tissues.DIPLOE, ("Skull", "Bone")),
    ]


def _brain(variation: Variation, bone_outer: Ellipsoid, base: SkullBase) -> list[Layer]:
    """Grey matter, white-matter core, lateral ventricles, brainstem and optic chiasm."""
    cavity = Intersection((bone_outer.inset(SKULL_MM), Above(base)))
    white = Intersection((bone_outer.inset(SKULL_MM + 14.0), Above(base, 12.0)))
    tilt = math.radians(8.0)
    ventricles = Union(tuple(
        Ellipsoid((side * 11.0, -2.0, variation.mm(36.0, 1.5)), (6.0, 28.0, 9.0),
                  ((0.0, math.cos(tilt), math.sin(tilt)), (1.0, 0.0, 0.0), (0.0, -math.sin(tilt), math.cos(tilt))))
        for side in (-1.0, 1.0)
    ))
    brainstem = tube([(0.0, -6.0, 10.0), (0.0, 4.0, -14.0), (0.0, 18.0, -36.0), (0.0, 26.0, -48.0)],
                     [13.0, 13.0, 10.0, 7.5])
    chiasm = Ellipsoid((0.0, -18.0, 6.0), (9.0, 4.5, 2.5))
    return [
        Layer("grey_matter", cavity, tissues.BRAIN_GREY, ("Brain",)),
        Layer("white_matter", white, tissues.BRAIN_WHITE, ("Brain",)),
        Layer("lateral_ventricles", ventricles, tissues.CSF, ("Brain",)),
        Layer("brainstem", brainstem, tissues.BRAINSTEM, ("Brainstem", "Brain")),
        Layer("optic_chiasm", chiasm, tissues.NERVE, ("OpticChiasm", "Brain")),
    ]

