"""Thorax and upper abdomen, lower neck (C7/T1) to the lower poles of the kidneys (L3).

Coordinates are LPS millimetres with z = 0 near the carina and the body centred on x = y = 0.
Sizes follow an average adult: chest 33 x 25 cm, heart about 570 ml sitting left of the midline,
right diaphragm dome 1.5 cm higher than the left. The right lung comes out larger than the left
because the heart displaces the left lung and the mediastinum lies left of centre.
"""

from __future__ import annotations

import logging

from . import tissues
from .abdomen import abdomen_layers
from .columns import Profile, ZColumn
from .grid import ScanPlan
from .mediastinum import Chest, mediastinum_layers
from .ribcage import ribcage_layers
from .scene import Anatomy, Layer, clipped_to
from .shapes import Difference, Intersection
from .spine import LevelSpec, SpineCourse, Vertebra, spine_layers, stack_levels
from .surfaces import Above, AxisLimit, Below, Dome, Highest
from .variation import Variation

logger = logging.getLogger(__name__)

#: 120 slices of 3 mm from +85 mm (T1) to -272 mm (L3): about 10 s of a clinical helical scan.
PLAN = ScanPlan(z_top_mm=85.0, slices=120, spacing_mm=3.0, table_height_mm=25.0)

STRUCTURES = (
    "Body", "Skin", "Lung_L", "Lung_R", "Trachea", "Bronchus", "Heart", "A_Aorta", "Esophagus",
    "SpinalCanal", "SpinalCord", "VBs", "Bone", "Liver", "Spleen", "Stomach", "Kidney_L", "Kidney_R",
)

SKIN_MM = 2.5

#: (z, cx, cy, a, b, n): outer body outline, arms raised (shoulders at the top slices).
BODY_KNOTS = [
    (200.0, 0.0, 20.0, 62.0, 62.0, 2.2), (118.0, 0.0, 16.0, 88.0, 78.0, 2.4), (88.0, 0.0, 8.0, 150.0, 110.0, 2.8),
    (55.0, 0.0, 3.0, 172.0, 128.0, 2.8), (20.0, 0.0, 4.0, 166.0, 127.0, 2.7), (-50.0, 0.0, 6.0, 161.0, 125.0, 2.6),
    (-130.0, 0.0, 8.0, 158.0, 123.0, 2.5), (-200.0, 0.0, 10.0, 155.0, 121.0, 2.4), (-300.0, 0.0, 13.0, 150.0, 118.0, 2.3),
]
#: Inner surface of the chest and abdominal wall (where the lungs touch the ribs).
CAVITY_KNOTS = [
    (95.0, 0.0, 18.0, 38.0, 32.0, 2.2), (72.0, 0.0, 12.0, 82.0, 62.0, 2.3), (40.0, 0.0, 4.0, 112.0, 80.0, 2.4),
    (0.0, 0.0, 4.0, 131.0, 90.0, 2.5), (-60.0, 0.0, 6.0, 135.0, 91.0, 2.5), (-130.0, 0.0, 8.0, 133.0, 92.0, 2.5),
    (-200.0, 0.0, 10.0, 129.0, 92.0, 2.4), (-300.0, 0.0, 13.0, 124.0, 90.0, 2.3),
]

#: Vertebral levels head to foot: height, disc below, body semi-axes, canal semi-axes (mm).
LEVELS = [
    LevelSpec("C6", 13, 5, (11, 8), (11, 7.5), (22, 8), 18), LevelSpec("C7", 14, 5, (12, 9), (11, 7.5), (30, 12), 22),
    LevelSpec("T1", 16, 4, (13, 10), (9, 8)), LevelSpec("T2", 17, 4, (14, 11), (8.5, 8)),
    LevelSpec("T3", 17, 4, (14, 11), (8, 8)), LevelSpec("T4", 18, 4, (15, 12), (8, 8)),
    LevelSpec("T5", 18, 4, (15, 12), (8, 8)), LevelSpec("T6", 19, 4, (16, 13), (8, 8)),
    LevelSpec("T7", 19, 4, (16, 13), (8, 8)), LevelSpec("T8", 20, 4, (17, 14), (8, 8)),
    LevelSpec("T9", 20, 5, (17, 14), (8, 8)), LevelSpec("T10", 21, 5, (18, 14), (8.5, 8)),
    LevelSpec("T11", 22, 6, (19, 15), (9, 8), (28, 12)), LevelSpec("T12", 23, 7, (20, 15), (9.5, 8), (28, 8)),
    LevelSpec("L1", 25, 8, (22, 16), (10, 8.5), (28, 4), 30), LevelSpec("L2", 26, 8, (23, 16.5), (10.5, 8.5), (28, 2), 34),
    LevelSpec("L3", 27, 9, (24, 17), (11, 8.5), (28, 0), 38),
]
SPINE = SpineCourse((120.0, 85.0, 40.0, -40.0, -120.0, -200.0, -300.0), (22.0, 30.0, 40.0, 45.0, 44.0, 38.0, 30.0))
CORD_SEMI = Profile.of([(100, 0, 0, 6.5, 4.5, 2), (60, 0, 0, 5.0, 4.0, 2), (-200, 0, 0, 4.5, 4.0, 2),
                        (-225, 0, 0, 3.0, 3.0, 2)])


def build(variation: Variation) -> Anatomy:
    """All thorax layers in painting order."""
    outline = Profile.of(BODY_KNOTS).moved(scale_a=variation.scale(1.0, 0.03), scale_b=variation.scale(1.0, 0.03))
    body = variation.rippled(ZColumn(outline, -1000.0, 1000.0), 0.015, 180.0)
    cavity = variation.rippled(ZColumn(Profile.of(CAVITY_KNOTS), -1000.0, 1000.0), 0.015, 150.0)
    chest = _chest(variation, cavity)
    levels = stack_levels(LEVELS, "T5", variation.mm(0.0, 3.0))
    layers = [
        Layer("subcutaneous_fat", body, tissues.FAT),
        Layer("body_wall_muscle", body.inset(11.0), tissues.MUSCLE),
        *clipped_to(body, [
            Layer("visceral_fat", cavity, tissues.VISCERAL_FAT),
            Layer("diaphragm", Intersection((cavity, Below(chest.diaphragm), Above(chest.diaphragm, -7.0))),
                  tissues.MUSCLE),
            *_lungs(chest),
            *mediastinum_layers(variation, chest),
            *abdomen_layers(variation, chest, cavity),
            *_back_muscles(levels, body),
            *spine_layers(levels, SPINE, (-1000.0, 1000.0), (-232.0, 1000.0), CORD_SEMI),
            *ribcage_layers(variation, body, cavity, levels, SPINE),
        ]),
        Layer("skin", Difference(body, body.inset(SKIN_MM)), tissues.SKIN, ("Skin",)),
    ]
    return Anatomy(tuple(layers), STRUCTURES, body)


def _chest(variation: Variation, cavity: ZColumn) -> Chest:
    """Diaphragm, lung apices and the lungs' medial limits, each slightly varied by the seed."""
    right_dome = Dome(-60.0, -15.0, variation.mm(-100.0, 4.0), 85.0, 95.0, 40.0)
    left_dome = Dome(60.0, -10.0, variation.mm(-115.0, 4.0), 80.0, 90.0, 40.0)
    diaphragm = Highest((right_dome, left_dome))
    apex_r = Dome(-45.0, 20.0, variation.mm(80.0, 2.0), 45.0, 50.0, 30.0)
    apex_l = Dome(45.0, 20.0, variation.mm(78.0, 2.0), 45.0, 50.0, 30.0)
    lung_r = Intersection((cavity, AxisLimit.of(0, [(100, -14), (50, -16), (10, -18), (-30, -8), (-150, -6)]),
                           Above(diaphragm), Below(apex_r)))
    lung_l = Intersection((cavity, AxisLimit.of(0, [(100, 16), (50, 22), (30, 30), (10, 26), (-30, 20), (-150, 18)],
                                                less_than=False),
                           Above(diaphragm), Below(apex_l)))
    return Chest(diaphragm=diaphragm, lung_r=lung_r, lung_l=lung_l)


def _lungs(chest: Chest) -> list[Layer]:
    return [
        Layer("lung_r_parenchyma", chest.lung_r, tissues.LUNG, ("Lung_R",),
              gravity_hu_per_mm=tissues.LUNG_GRAVITY_HU_PER_MM),
        Layer("lung_l_parenchyma", chest.lung_l, tissues.LUNG, ("Lung_L",),
              gravity_hu_per_mm=tissues.LUNG_GRAVITY_HU_PER_MM),
    ]


def _back_muscles(levels: tuple[Vertebra, ...], body: ZColumn) -> list[Layer]:
    """Paravertebral muscle around the spine (the lungs wrap around it), and psoas from L1 down."""
    paravertebral = ZColumn(Profile.of([(z, 0.0, y + 36.0, 27.0, 47.0, 2.6) for z, y in zip(SPINE.z_mm, SPINE.body_y_mm, strict=True)]),
                            -1000.0, 1000.0)
    lumbar_top = next(v.z_top for v in levels if v.name == "L1")
    psoas = [
        ZColumn(Profile.of([(lumbar_top + 10.0, side * 30.0, 38.0, 6.0, 6.0, 2.0),
                            (lumbar_top - 80.0, side * 40.0, 30.0, 17.0, 17.0, 2.0)]),
                -1000.0, lumbar_top + 10.0)
        for side in (-1.0, 1.0)
    ]
    return [Layer("paravertebral_muscle", paravertebral & body.inset(11.0), tissues.MUSCLE),
            Layer("psoas", psoas[0] | psoas[1], tissues.MUSCLE)]
