"""Ribs, costal cartilages, sternum, clavicles and scapulae.

Each rib leaves its vertebra, bends back at the rib angle and then follows the chest wall just
outside the lungs, sloping down toward the front (lower ribs more steeply, the floating ribs 11
and 12 stopping laterally). The path is computed from the cavity outline at each point's height,
so the ribs stay on the lungs' surface whatever the seed does to the cavity.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

from . import tissues
from .columns import Profile, ZColumn, superellipse_point
from .scene import Layer
from .shapes import Ellipsoid, Union, Vec3, orthonormal_axes, tube
from .spine import SpineCourse, Vertebra
from .variation import Variation

logger = logging.getLogger(__name__)

#: Rib number -> (anterior end angle in degrees, drop from back to front in mm); 90 deg = straight back.
RIB_COURSE = {
    1: (-70.0, 12.0), 2: (-76.0, 30.0), 3: (-78.0, 42.0), 4: (-78.0, 50.0), 5: (-78.0, 56.0), 6: (-76.0, 60.0),
    7: (-72.0, 64.0), 8: (-58.0, 68.0), 9: (-45.0, 66.0), 10: (-30.0, 62.0), 11: (0.0, 40.0), 12: (30.0, 24.0),
}
RIB_ANGLE_DEG = 62.0
RIB_RADIUS_MM = 5.0
RIB_MARROW_MM = 3.0
#: Rib centres lie this far outside the cavity surface (the lungs' outer boundary).
RIB_OFFSET_MM = 6.0


def ribcage_layers(variation: Variation, body: ZColumn, cavity: ZColumn, levels: Sequence[Vertebra],
                   course: SpineCourse) -> list[Layer]:
    """Ribs and cartilages, sternum, scapulae and clavicles; the shoulder girdle is kept under the skin and fat."""
    thoracic = [v for v in levels if v.name.startswith("T")]
    paths: list[list[Vec3]] = []
    cartilage = []
    for number, level in enumerate(thoracic, start=1):
        for side in (-1.0, 1.0):
            path = _rib_path(cavity, level, course, number, side)
            paths.append(path)
            if number <= 7:
                end = path[-1]
                cartilage.append(tube([end, (side * 14.0, _sternum_y(cavity, end[2] - 4.0), end[2] - 4.0)], 4.5))
    ribs = Union(tuple(s for p in paths for s in tube(p, RIB_RADIUS_MM).members))
    marrow = Union(tuple(s for p in paths for s in tube(p, RIB_MARROW_MM).members))
    sternum = _sternum(cavity)
    clavicles, scapulae = _shoulder_girdle(variation)
    return [
        Layer("costal_cartilage", Union(tuple(s for c in cartilage for s in c.members)), tissues.CARTILAGE),
        Layer("rib_cortex", ribs, 900.0, ("Bone",)),
        Layer("rib_marrow", marrow, tissues.CANCELLOUS_BONE, ("Bone",)),
        Layer("sternum_cortex", sternum, 800.0, ("Bone",)),
        Layer("sternum_marrow", sternum.inset(1.5), tissues.CANCELLOUS_BONE, ("Bone",)),
        Layer("scapulae", scapulae & body.inset(8.0), 700.0, ("Bone",)),
        Layer("clavicles", clavicles & body.inset(8.0), 900.0, ("Bone",)),
    ]


def _rib_path(cavity: ZColumn, level: Vertebra, course: SpineCourse, number: int, side: float) -> list[Vec3]:
    """Head at the vertebral body, neck to the transverse process, then an arc along the chest wall."""
    z0 = level.z_mid + 3.0
    head: Vec3 = (side * (level.body_semi[0] + 3.0), course.body_y(z0) + 6.0, z0)
    neck: Vec3 = (side * 36.0, course.canal_y(level, z0) + 10.0, z0 - 1.0)
    end_deg, drop = RIB_COURSE[number]
    path = [head, neck]
    for step in range(9):
        fraction = step / 8.0
        degrees = RIB_ANGLE_DEG + fraction * (end_deg - RIB_ANGLE_DEG)
        z = z0 - 4.0 - drop * fraction
        angle = math.radians(degrees) if side > 0 else math.pi - math.radians(degrees)
        x, y = superellipse_point(cavity.section(z), angle, RIB_OFFSET_MM)
        path.append((x, y, z))
    return path


def _sternum_y(cavity: ZColumn, z: float) -> float:
    cx, cy, a, b, n = cavity.section(z)
    return cy - b - 7.0


def _sternum(cavity: ZColumn) -> ZColumn:
    """Manubrium (wide), body and xiphoid, just in front of the cavity."""
    knots = [(48.0, 24.0, 7.0), (12.0, 21.0, 7.0), (4.0, 14.0, 6.5), (-88.0, 16.0, 6.5), (-100.0, 8.0, 5.0),
             (-122.0, 5.0, 3.5)]
    profile = Profile.of([(z, 0.0, _sternum_y(cavity, z), a, b, 2.2) for z, a, b in knots])
    return ZColumn(profile, -122.0, 48.0)


def _shoulder_girdle(variation: Variation) -> tuple[Union, Union]:
    """Clavicles from the manubrium to the acromion; scapular blades on the upper back."""
    clavicles = Union(tuple(
        s for side in (-1.0, 1.0)
        for s in tube([(side * 20.0, -95.0, 50.0), (side * 70.0, -92.0, 60.0), (side * 125.0, -60.0, 70.0),
                       (side * 150.0, -25.0, 72.0)], [7.0, 6.0, 6.0, 7.0]).members
    ))
    scapulae = Union(tuple(
        Ellipsoid((side * variation.mm(92.0, 3.0), 104.0, variation.mm(12.0, 4.0)), (48.0, 4.5, 62.0),
                  orthonormal_axes((side * 0.88, -0.47, 0.0), (side * 0.47, 0.88, 0.0)))
        for side in (-1.0, 1.0)
    ))
    return clavicles, scapulae
