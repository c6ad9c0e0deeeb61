"""The vertebral column: discrete vertebrae and discs, the bony canal, its CSF and the cord.

Each vertebra is a cortical shell around cancellous bone (the body) plus a posterior arch that
rings the canal, a spinous process and two transverse processes. Arches stop short of the disc
levels, as laminae do, so the canal is not closed by bone in every slice; a canal recipe must
link rings across slices, exactly as on patient CT.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import tissues
from .columns import Profile, ZColumn
from .scene import Layer
from .shapes import Difference, Shape, Union, tube

logger = logging.getLogger(__name__)

CORTEX_MM = 1.5


@dataclass(frozen=True)
class Vertebra:
    """One level: body extent in z, body and canal semi-axes (lateral, AP) and process sizes, in mm."""

    name: str
    z_top: float
    z_bottom: float
    disc_below_mm: float
    body_semi: tuple[float, float]
    canal_semi: tuple[float, float]
    spinous_mm: tuple[float, float]
    transverse_reach_mm: float

    @property
    def z_mid(self) -> float:
        return (self.z_top + self.z_bottom) / 2.0


@dataclass(frozen=True)
class LevelSpec:
    """Size of a level before it is placed along z."""

    name: str
    height_mm: float
    disc_below_mm: float
    body_semi: tuple[float, float]
    canal_semi: tuple[float, float]
    spinous_mm: tuple[float, float] = (30.0, 20.0)
    transverse_reach_mm: float = 22.0


def stack_levels(specs: Sequence[LevelSpec], anchor: str, anchor_top_z: float) -> tuple[Vertebra, ...]:
    """Place levels head to foot so that the body of ``anchor`` starts at ``anchor_top_z``."""
    offsets, z = [], 0.0
    for spec in specs:
        offsets.append(z)
        z -= spec.height_mm + spec.disc_below_mm
    shift = anchor_top_z - offsets[[s.name for s in specs].index(anchor)]
    return tuple(
        Vertebra(s.name, o + shift, o + shift - s.height_mm, s.disc_below_mm, s.body_semi, s.canal_semi,
                 s.spinous_mm, s.transverse_reach_mm)
        for s, o in zip(specs, offsets, strict=True)
    )


@dataclass(frozen=True)
class SpineCourse:
    """Where the column runs: vertebral-body centre y (mm) at z knots; x is the midline."""

    z_mm: tuple[float, ...]
    body_y_mm: tuple[float, ...]

    def body_y(self, z: float) -> float:
        order = np.argsort(self.z_mm)  # knots may be listed head to foot; interp needs increasing z
        return float(np.interp(z, np.asarray(self.z_mm)[order], np.asarray(self.body_y_mm)[order]))

    def canal_y(self, level: Vertebra, z: float) -> float:
        return self.body_y(z) + level.body_semi[1] + level.canal_semi[1] + 2.0


def _body_column(level: Vertebra, course: SpineCourse, z_top: float, z_bottom: float) -> ZColumn:
    a, b = level.body_semi
    knots = [(z, 0.0, course.body_y(z), a, b, 2.2) for z in (z_bottom, z_top)]
    return ZColumn(Profile.of(knots), z_bottom, z_top)


def canal_profile(levels: Sequence[Vertebra], course: SpineCourse, grow_mm: float = 0.0) -> Profile:
    """Canal cross-sections through every level (optionally grown, e.g. for the arch ring)."""
    return Profile.of([
        (v.z_mid, 0.0, course.canal_y(v, v.z_mid), v.canal_semi[0] + grow_mm, v.canal_semi[1] + grow_mm, 2.0)
        for v in levels
    ])


def _arch(level: Vertebra, course: SpineCourse, canal: ZColumn) -> Shape:
    ring = ZColumn(canal_profile([level], course, grow_mm=5.0), level.z_bottom - 2.0, level.z_top - 1.0)
    y = course.canal_y(level, level.z_mid)
    a, b = level.canal_semi
    length, drop = level.spinous_mm
    spinous = tube([(0.0, y + b + 2.0, level.z_mid), (0.0, y + b + length, level.z_mid - drop)], [4.0, 3.0])
    reach = level.transverse_reach_mm
    transverse = [
        tube([(side * (a + 3.0), y, level.z_mid), (side * (a + reach), y + 8.0, level.z_mid + 2.0)], [5.0, 4.0])
        for side in (-1.0, 1.0)
    ]
    return Difference(Union((ring, spinous, *transverse)), canal)


def spine_layers(levels: Sequence[Vertebra], course: SpineCourse, canal_z: tuple[float, float],
                 cord_z: tuple[float, float], cord_semi: Profile) -> list[Layer]:
    """Discs, vertebral bodies (cortex and cancellous core), arches, canal CSF and cord, in paint order.

    ``cord_semi`` gives the cord's semi-axes along z as a profile (its centre is taken from the canal).
    """
    canal = ZColumn(canal_profile(levels, course), *canal_z)
    discs = [
        _body_column(v, course, v.z_bottom, v.z_bottom - v.disc_below_mm) for v in levels if v.disc_below_mm > 0
    ]
    bodies = [_body_column(v, course, v.z_top, v.z_bottom) for v in levels]
    return [
        Layer("intervertebral_discs", Union(tuple(discs)), tissues.DISC),
        Layer("vertebral_body_cortex", Union(tuple(bodies)), tissues.CORTICAL_BONE, ("VBs", "Bone")),
        Layer("vertebral_body_core", Union(tuple(b.inset(CORTEX_MM) for b in bodies)), tissues.CANCELLOUS_BONE,
              ("VBs", "Bone")),
        Layer("vertebral_arches", Union(tuple(_arch(v, course, canal) for v in levels)), 700.0, ("Bone",)),
        Layer("spinal_canal_csf", canal, tissues.CSF, ("SpinalCanal",)),
        Layer("spinal_cord", ZColumn(_cord_profile(levels, course, cord_semi), *cord_z), tissues.SPINAL_CORD,
              ("SpinalCord", "SpinalCanal")),
    ]


def _cord_profile(levels: Sequence[Vertebra], course: SpineCourse, cord_semi: Profile) -> Profile:
    """Cord centred 1 mm anterior of the canal centre, sized by ``cord_semi`` at each level."""
    knots = []
    for v in levels:
        _, _, a, b, _ = (float(p[0]) for p in cord_semi.at(np.array([v.z_mid])))
        knots.append((v.z_mid, 0.0, course.canal_y(v, v.z_mid) - 1.0, a, b, 2.0))
    return Profile.of(knots)
