"""Neck: cervical spine, pharynx, larynx and trachea, esophagus, thyroid, vessels and fat planes."""

from __future__ import annotations

import logging

from . import tissues
from .columns import Profile, ZColumn
from .scene import Layer
from .shapes import Difference, Ellipsoid, Union, tube
from .spine import LevelSpec, SpineCourse, spine_layers, stack_levels
from .surfaces import AxisLimit
from .variation import Variation

logger = logging.getLogger(__name__)

#: C1 is the atlas: its small "body" stands for the anterior arch with the dens behind it.
LEVELS = [
    LevelSpec("C1", 10, 3, (8, 6), (13, 11), (10, 0), 26), LevelSpec("C2", 24, 5, (9, 8), (12, 8.5), (22, 6), 20),
    LevelSpec("C3", 13, 5, (10, 8), (12, 7.5), (20, 6), 18), LevelSpec("C4", 13, 5, (10, 8), (12, 7.5), (20, 6), 18),
    LevelSpec("C5", 13, 5, (11, 8), (12, 7.5), (20, 7), 18), LevelSpec("C6", 13, 5, (11, 8.5), (11.5, 7.5), (22, 8), 19),
    LevelSpec("C7", 14, 5, (12, 9), (11, 7.5), (24, 10), 22), LevelSpec("T1", 16, 4, (13, 10), (9, 8), (26, 14), 22),
    LevelSpec("T2", 17, 4, (14, 11), (8.5, 8), (26, 16), 22),
]
SPINE = SpineCourse((-30.0, -80.0, -120.0, -170.0, -230.0), (14.0, 9.0, 11.0, 18.0, 28.0))
CORD_SEMI = Profile.of([(-40, 0, 0, 7.0, 5.0, 2), (-120, 0, 0, 6.5, 4.5, 2), (-200, 0, 0, 5.0, 4.0, 2)])
FORAMEN_MAGNUM_Z = -42.0


def neck_layers(variation: Variation) -> list[Layer]:
    levels = stack_levels(LEVELS, "C1", variation.mm(-46.0, 1.0))
    return [
        *_soft_tissue(variation),
        *spine_layers(levels, SPINE, (-1000.0, FORAMEN_MAGNUM_Z), (-1000.0, FORAMEN_MAGNUM_Z - 2.0), CORD_SEMI),
        *_airway(variation),
    ]


def _soft_tissue(variation: Variation) -> list[Layer]:
    """Fat around the carotid sheaths and under the jaw, the vessels, and the thyroid."""
    fat = Union((
        *(ZColumn(Profile.of([(-100.0, side * 30.0, -8.0, 15.0, 19.0, 2.0)]), -150.0, -55.0) for side in (-1.0, 1.0)),
        Ellipsoid((0.0, -30.0, -96.0), (34.0, 18.0, 11.0)),
    ))
    carotids = Union(tuple(s for side in (-1.0, 1.0)
                           for s in tube([(side * 22.0, -14.0, -200.0), (side * 24.0, -10.0, -95.0),
                                          (side * 30.0, -2.0, -40.0)], 4.0).members))
    jugulars = Union(tuple(s for side in (-1.0, 1.0)
                           for s in tube([(side * 32.0, -6.0, -200.0), (side * 34.0, 0.0, -95.0),
                                          (side * 40.0, 8.0, -40.0)], 6.5).members))
    thyroid = Union((
        *(Ellipsoid(variation.point((side * 19.0, -30.0, -148.0), 1.5), (9.0, 12.0, 21.0)) for side in (-1.0, 1.0)),
        tube([(-12.0, -42.0, -158.0), (12.0, -42.0, -158.0)], 4.0),
    ))
    return [
        Layer("neck_fat", fat, tissues.VISCERAL_FAT),
        Layer("neck_vessels", carotids | jugulars, tissues.BLOOD),
        Layer("thyroid", thyroid, tissues.THYROID, ("Glnd_Thyroid",)),
    ]


def _airway(variation: Variation) -> list[Layer]:
    """Naso-, oro- and hypopharynx, the larynx in its thyroid cartilage, the trachea and the esophagus."""
    pharynx = [(0.0, -32.0, -28.0), (0.0, -16.0, -42.0), (0.0, -12.0, -72.0), (0.0, -18.0, -100.0),
               (0.0, -28.0, -118.0), (0.0, -31.0, -132.0)]
    lumen = Union(tuple(s for dx in (-4.0, 4.0)
                        for s in tube([(x + dx, y, z) for x, y, z in pharynx], [6.0, 6.0, 5.0, 5.5, 5.0, 4.5]).members))
    cartilage = Difference(ZColumn(Profile.of([(0.0, 0.0, -28.0, 20.0, 16.0, 2.2)]), -128.0, -100.0),
                           ZColumn(Profile.of([(0.0, 0.0, -27.0, 16.0, 12.0, 2.2)]), -130.0, -98.0))
    trachea = [(0.0, -31.0, -130.0), (0.0, -28.0, -180.0), (0.0, -24.0, -260.0)]
    esophagus = [(4.0, -8.0, -122.0), (5.0, -7.0, -180.0), (6.0, -2.0, -260.0)]
    esophagus_wall = Union(tuple(s for dx in (-2.5, 2.5)
                                 for s in tube([(x + dx, y, z) for x, y, z in esophagus], 6.5).members))
    return [
        Layer("thyroid_cartilage", cartilage & AxisLimit.of(1, [(0.0, -22.0)]), 180.0),
        Layer("pharynx_air", lumen, tissues.AIR),
        Layer("trachea_wall", tube(trachea, 10.0), tissues.SOFT_TISSUE, ("Trachea",)),
        Layer("trachea_lumen", tube(trachea, variation.mm(8.0, 0.4)), tissues.AIR, ("Trachea",)),
        Layer("esophagus", esophagus_wall, tissues.MUSCLE, ("Esophagus",)),
    ]
