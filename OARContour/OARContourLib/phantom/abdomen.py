"""Upper abdomen under the diaphragm: liver with gallbladder, IVC, stomach, spleen and kidneys.

Every organ is clipped to the abdominal cavity and to below the diaphragm, so nothing crosses into
the chest. Kidneys are painted after the liver, which leaves the renal impression on the liver.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from . import tissues
from .columns import ZColumn
from .mediastinum import Chest
from .scene import Layer
from .shapes import Ellipsoid, Intersection, Shape, orthonormal_axes, tube
from .surfaces import Below
from .variation import Variation

logger = logging.getLogger(__name__)

#: Cuts an organ to the abdominal cavity under the diaphragm.
Clip = Callable[[Shape], Shape]

#: Soft tissue of the diaphragm lies between the lung bases and the abdominal organs.
BELOW_DIAPHRAGM_MM = -7.0


def abdomen_layers(variation: Variation, chest: Chest, cavity: ZColumn) -> list[Layer]:
    """Abdominal organs in painting order."""

    def inside(shape: Shape) -> Shape:
        return Intersection((shape, cavity.inset(2.0), Below(chest.diaphragm, BELOW_DIAPHRAGM_MM)))

    return [
        *_liver(variation, inside),
        Layer("ivc", inside(tube([(-22.0, 15.0, -320.0), (-22.0, 8.0, -120.0), (-14.0, -6.0, -95.0)], 12.0)),
              tissues.BLOOD),
        *_stomach(variation, inside),
        Layer("spleen", inside(Ellipsoid(variation.point((90.0, 45.0, -165.0), 3.0), (55.0, 35.0, 20.0),
                                         orthonormal_axes((0.35, 0.45, -0.82), (-0.5, 0.8, 0.0)),
                                         variation.ripple(0.04, 80.0))),
              tissues.SPLEEN, ("Spleen",)),
        *_kidney(variation, inside, 1.0, "Kidney_L", -206.0),
        *_kidney(variation, inside, -1.0, "Kidney_R", -220.0),
    ]


def _liver(variation: Variation, inside: Clip) -> list[Layer]:
    right_lobe = Ellipsoid(variation.point((-50.0, 0.0, -172.0), 3.0),
                           (variation.scale(95.0, 0.03), 88.0, variation.scale(80.0, 0.04)),
                           ripple=variation.ripple(0.04, 130.0))
    left_lobe = Ellipsoid(variation.point((15.0, -48.0, -150.0), 3.0), (62.0, 40.0, 32.0),
                          ripple=variation.ripple(0.05, 90.0))
    gallbladder = Ellipsoid(variation.point((-45.0, -50.0, -212.0), 2.0), (15.0, 15.0, 34.0),
                            orthonormal_axes((0.2, -0.3, 1.0), (1.0, 0.0, 0.0)))
    return [
        Layer("liver", inside(right_lobe | left_lobe), tissues.LIVER, ("Liver",)),
        Layer("gallbladder", inside(gallbladder), tissues.BILE),
    ]


def _stomach(variation: Variation, inside: Clip) -> list[Layer]:
    wall = Ellipsoid(variation.point((52.0, -28.0, -168.0), 3.0), (44.0, 38.0, 46.0),
                     orthonormal_axes((0.3, -0.2, 1.0), (1.0, 0.0, 0.0)), variation.ripple(0.05, 90.0))
    return [
        Layer("stomach_wall", inside(wall), tissues.MUSCLE, ("Stomach",)),
        Layer("stomach_content", inside(wall.inset(4.0)), tissues.STOMACH_CONTENT, ("Stomach",)),
    ]


def _kidney(variation: Variation, inside: Clip, side: float, name: str, z: float) -> list[Layer]:
    """A bean: cortex/medulla ellipsoid with the upper pole tilted medially and back, hilum fat medially."""
    centre = variation.point((side * 68.0, 55.0, z), 3.0)
    axes = orthonormal_axes((-side * 0.25, 0.2, 1.0), (side * 1.0, -0.35, 0.0))
    kidney = Ellipsoid(centre, (variation.scale(52.0, 0.04), 28.0, 24.0), axes, variation.ripple(0.03, 70.0))
    sinus = Ellipsoid((centre[0] - side * 14.0, centre[1] - 6.0, centre[2]), (24.0, 9.0, 8.0), axes)
    return [
        Layer(f"{name.lower()}_parenchyma", inside(kidney), tissues.KIDNEY, (name,)),
        Layer(f"{name.lower()}_sinus", inside(sinus) & kidney, tissues.URINE, (name,)),
    ]
