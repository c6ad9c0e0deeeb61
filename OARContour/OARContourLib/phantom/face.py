"""Face: orbits with eyes, lenses and optic nerves; sinuses and nasal cavity; maxilla, mandible, teeth; parotids.

The parotids are painted before the mandible, so the ramus carves its notch into each gland as in
patients. Facial bones count toward ``Skull`` (TG-263 uses Skull for the cranium with the facial
skeleton), the mandible toward ``Bone_Mandible``; all bones count toward ``Bone``.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from . import tissues
from .columns import Profile, ZColumn
from .scene import Layer
from .shapes import Difference, Ellipsoid, Shape, Union, Vec3, offset_tube, tube
from .surfaces import AxisLimit
from .variation import Variation

logger = logging.getLogger(__name__)

SIDES = ((1.0, "L"), (-1.0, "R"))
FACIAL_BONE = 700.0


def face_layers(variation: Variation) -> list[Layer]:
    return [*_sinuses(variation), *_orbits(variation), *_parotids(variation), *_mandible(variation)]


def _orbits(variation: Variation) -> list[Layer]:
    """Bony orbit open to the front, orbital fat, globe, lens and optic nerve on each side."""
    layers: list[Layer] = []
    spread = variation.mm(32.0, 1.0)
    for side, tag in SIDES:
        globe_c: Vec3 = (side * spread, -66.0, variation.mm(0.0, 0.8))
        orbit = Ellipsoid((side * (spread - 3.0), -55.0, globe_c[2]), (17.0, 26.0, 17.0))
        walls = Difference(orbit.inset(-2.5), orbit) & AxisLimit.of(1, [(0.0, -72.0)], less_than=False)
        nerve = tube([(side * (spread - 2.0), -53.0, globe_c[2]), (side * 20.0, -40.0, 2.0), (side * 12.0, -28.0, 5.0),
                      (side * 5.0, -19.0, 6.0)], 2.3)
        lens_c: Vec3 = (globe_c[0], globe_c[1] - 9.2, globe_c[2])
        layers += [
            Layer(f"orbit_wall_{tag}", walls, FACIAL_BONE, ("Skull", "Bone")),
            Layer(f"orbital_fat_{tag}", orbit, tissues.ORBITAL_FAT),
            Layer(f"optic_nerve_{tag}", nerve, tissues.NERVE, (f"OpticNrv_{tag}",)),
            Layer(f"globe_{tag}", Ellipsoid(globe_c, (12.0, 12.0, 12.0)), tissues.EYE, (f"Eye_{tag}",)),
            Layer(f"lens_{tag}", Ellipsoid(lens_c, (4.6, 2.1, 4.6)), tissues.LENS, (f"Lens_{tag}", f"Eye_{tag}")),
        ]
    return layers


def _shelled(name: str, cavity: Ellipsoid, wall_mm: float, air_hu: float) -> list[Layer]:
    return [Layer(f"{name}_wall", cavity.inset(-wall_mm), FACIAL_BONE, ("Skull", "Bone")),
            Layer(f"{name}_air", cavity, air_hu)]


def _sinuses(variation: Variation) -> list[Layer]:
    """Maxillary and sphenoid sinuses, ethmoid cells, nasal cavity with septum, palate and zygomatic arches."""
    layers: list[Layer] = []
    for side, tag in SIDES:
        layers += _shelled(f"maxillary_sinus_{tag}", Ellipsoid((side * 29.0, -56.0, -28.0),
                                                                (15.0, variation.mm(20.0, 1.0), 16.0)), 2.0, tissues.AIR)
    layers += _shelled("sphenoid_sinus", Ellipsoid((0.0, -30.0, -20.0), (12.0, 10.0, 8.0)), 2.0, tissues.AIR)

    def nasal(z_lo: float, z_hi: float, hu: float, name: str) -> Layer:
        return Layer(name, ZColumn(Profile.of([(0.0, 0.0, -60.0, 11.0, 28.0, 4.0)]), z_lo, z_hi), hu)

    zygoma = Union(tuple(s for side, _ in SIDES
                         for s in tube([(side * 48.0, -58.0, -16.0), (side * 58.0, -30.0, -18.0),
                                        (side * 58.0, -8.0, -20.0)], 4.0).members))
    palate = ZColumn(Profile.of([(0.0, 0.0, -56.0, 26.0, 26.0, 2.5)]), -45.0, -40.5)
    return layers + [
        nasal(-40.0, -4.0, tissues.AIR, "nasal_cavity"),
        nasal(-4.0, 14.0, -650.0, "ethmoid_cells"),
        Layer("nasal_septum", ZColumn(Profile.of([(0.0, 0.0, -62.0, 1.2, 25.0, 2.0)]), -38.0, 10.0), 300.0),
        Layer("hard_palate", palate, FACIAL_BONE, ("Skull", "Bone")),
        Layer("zygomatic_arches", zygoma, FACIAL_BONE, ("Skull", "Bone")),
    ]


def _parotids(variation: Variation) -> list[Layer]:
    """Fatty glands behind the ramus, in front of the ear; the left slightly different from the right."""
    return [
        Layer(f"parotid_{tag}", Ellipsoid(variation.point((side * 50.0, 8.0, -32.0), 1.5),
                                          (variation.scale(12.0, 0.05), variation.scale(20.0, 0.05), 22.0),
                                          ripple=variation.ripple(0.05, 40.0)),
              tissues.PAROTID, (f"Parotid_{tag}",))
        for side, tag in SIDES
    ]


def _arc(a: float, b: float, y0: float, z: float, degrees: tuple[float, float], n: int = 11) -> list[Vec3]:
    """Horseshoe points ``(a sin t, y0 - b cos t, z)``: t = 0 at the chin, +-90 deg at the angles."""
    return [(a * math.sin(t), y0 - b * math.cos(t), z) for t in np.radians(np.linspace(*degrees, n))]


def _mandible(variation: Variation) -> list[Layer]:
    """Horseshoe body, two rami up to the condyles, marrow inside, and both rows of teeth."""
    width = variation.scale(46.0, 0.03)
    body_path = _arc(width, 56.0, -30.0, 0.0, (-98.0, 98.0))
    layers_z = [(0.0, 0.0, dz) for dz in (-64.0, -72.0, -79.0)]
    parts: list[Shape] = [offset_tube(body_path, 5.5, layers_z)]
    marrow: list[Shape] = [offset_tube(body_path, 3.0, layers_z)]
    for side in (-1.0, 1.0):
        ramus = [(side * width, -20.0, -80.0), (side * (width + 3.0), -10.0, -50.0), (side * (width + 4.0), -4.0, -24.0)]
        offsets = [(0.0, dy, 0.0) for dy in (-7.0, 0.0, 7.0)]
        parts += [offset_tube(ramus, 4.5, offsets),
                  Ellipsoid((side * (width + 4.0), -4.0, -21.0), (10.0, 5.5, 6.0))]
        marrow.append(offset_tube(ramus, 2.2, offsets))
    teeth = Union((*tube(_arc(width - 4.0, 52.0, -30.0, -55.0, (-75.0, 75.0)), 4.5).members,
                   *tube(_arc(width - 2.0, 50.0, -30.0, -45.0, (-75.0, 75.0)), 4.5).members))
    mandible = Union(tuple(parts))
    return [
        Layer("mandible_cortex", mandible, 1200.0, ("Bone_Mandible", "Bone")),
        Layer("mandible_marrow", Union(tuple(marrow)), 350.0, ("Bone_Mandible", "Bone")),
        Layer("teeth", Difference(teeth, mandible), tissues.TOOTH),
    ]
