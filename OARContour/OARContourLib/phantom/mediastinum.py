"""Mediastinum and airways: heart, great vessels, trachea and bronchi, esophagus, lung vessels.

Painted after the lungs, so every structure here carves its own space out of them (the cardiac
impression on the left lung, the hila). The trachea and bronchi are a wall (soft tissue) around
an air lumen; both count toward ``Trachea``/``Bronchus``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from . import tissues
from .scene import Layer
from .shapes import Ellipsoid, Intersection, Shape, Union, Vec3, orthonormal_axes, tube, vec3
from .surfaces import Above, Surface
from .variation import Variation

logger = logging.getLogger(__name__)

BRONCHUS_WALL_MM = 1.5
TRACHEA_WALL_MM = 2.0


@dataclass(frozen=True, eq=False)
class Chest:
    """Solids shared by the thorax modules."""

    diaphragm: Surface
    lung_r: Shape
    lung_l: Shape


def mediastinum_layers(variation: Variation, chest: Chest) -> list[Layer]:
    """Lung vessels, heart, vessels, airways and esophagus in painting order."""
    return [
        *_lung_vessels(variation, chest),
        *_heart(variation, chest),
        *_great_vessels(variation),
        *_airways(variation),
        *_esophagus(variation),
        Layer("thyroid", Union(tuple(Ellipsoid((side * 20.0, -28.0, 95.0), (10.0, 12.0, 22.0)) for side in (-1, 1))),
              tissues.THYROID),
    ]


def _heart(variation: Variation, chest: Chest) -> list[Layer]:
    """An ellipsoid whose long axis points from the base (right, back, up) to the apex (left, front, down)."""
    axes = orthonormal_axes((0.55, -0.45, -0.70), (0.6, 0.7, 0.0))
    centre = variation.point((24.0, -28.0, -68.0), 3.0)
    semi = (variation.scale(65.0, 0.04), variation.scale(50.0, 0.04), variation.scale(42.0, 0.04))
    heart = Ellipsoid(centre, semi, axes, variation.ripple(0.03, 110.0))
    pericardium = Ellipsoid(centre, vec3(s + 3.5 for s in semi), axes)
    return [
        Layer("pericardial_fat", Intersection((pericardium, Above(chest.diaphragm))), tissues.VISCERAL_FAT),
        Layer("heart", Intersection((heart, Above(chest.diaphragm))), tissues.HEART, ("Heart",)),
    ]


def _great_vessels(variation: Variation) -> list[Layer]:
    """Aorta (root, arch, descending), its arch branches, SVC and pulmonary arteries."""
    arch_z = variation.mm(22.0, 3.0)
    aorta = tube([(5.0, -22.0, -40.0), (3.0, -26.0, arch_z - 8.0), (8.0, -14.0, arch_z + 4.0),
                  (20.0, 12.0, arch_z + 4.0), (27.0, 28.0, arch_z - 10.0), (31.0, 29.0, -60.0),
                  (22.0, 28.0, -120.0), (10.0, 22.0, -165.0), (6.0, 20.0, -320.0)],
                 [15.0, 15.0, 14.0, 13.0, 12.5, 12.0, 11.5, 11.0, 10.0])
    branches = Union((
        tube([(-2.0, -20.0, arch_z + 10.0), (-14.0, -16.0, arch_z + 45.0), (-22.0, -12.0, 140.0)], [7.0, 6.0, 5.0]),
        tube([(10.0, -8.0, arch_z + 12.0), (16.0, -6.0, arch_z + 50.0), (24.0, -8.0, 140.0)], [5.5, 5.0, 4.5]),
        tube([(18.0, 5.0, arch_z + 12.0), (35.0, 5.0, arch_z + 45.0), (70.0, 5.0, arch_z + 55.0)], [6.0, 5.5, 5.0]),
    ))
    svc = tube([(-28.0, -18.0, 120.0), (-26.0, -18.0, 50.0), (-24.0, -16.0, -30.0)], [8.0, 10.0, 11.0])
    pulmonary = Union((
        tube([(10.0, -45.0, -45.0), (14.0, -32.0, -8.0)], [13.0, 13.0]),
        tube([(14.0, -32.0, -8.0), (-12.0, -5.0, -10.0), (-42.0, 6.0, -16.0)], [11.0, 10.0, 8.0]),
        tube([(14.0, -32.0, -8.0), (35.0, -10.0, -4.0), (48.0, 8.0, -10.0)], [10.0, 9.0, 7.5]),
    ))
    return [
        Layer("pulmonary_arteries", pulmonary, tissues.BLOOD),
        Layer("aorta", aorta, tissues.BLOOD, ("A_Aorta",)),
        Layer("arch_branches_and_svc", branches | svc, tissues.BLOOD),
    ]


def _airway(points: list[Vec3], radii: list[float], wall_mm: float, name: str, structure: str) -> list[Layer]:
    return [
        Layer(f"{name}_wall", tube(points, [r + wall_mm for r in radii]), tissues.SOFT_TISSUE, (structure,)),
        Layer(f"{name}_lumen", tube(points, radii), tissues.AIR, (structure,)),
    ]


def _airways(variation: Variation) -> list[Layer]:
    """Trachea down to the carina, then main, intermediate and lobar bronchi (right steeper and shorter)."""
    carina: Vec3 = (2.0, 5.0, variation.mm(3.0, 2.0))
    trachea = [(0.0, -20.0, 140.0), (0.0, -12.0, 60.0), (1.0, 0.0, 25.0), carina]
    cz = carina[2]
    right = [carina, (-22.0, 10.0, cz - 18.0), (-36.0, 13.0, cz - 42.0), (-52.0, 22.0, cz - 78.0)]
    right_upper = [(-22.0, 10.0, cz - 18.0), (-48.0, 4.0, cz + 2.0)]
    left = [carina, (24.0, 10.0, cz - 20.0), (44.0, 15.0, cz - 38.0)]
    left_upper = [(44.0, 15.0, cz - 38.0), (60.0, -2.0, cz - 12.0)]
    left_lower = [(44.0, 15.0, cz - 38.0), (64.0, 34.0, cz - 78.0)]
    bronchi = [
        (right, [7.0, 6.5, 5.0, 3.0]), (right_upper, [4.5, 3.0]), (left, [6.5, 6.0, 5.0]),
        (left_upper, [4.0, 2.5]), (left_lower, [4.5, 2.5]),
    ]
    wall = Union(tuple(s for pts, r in bronchi for s in tube(pts, [x + BRONCHUS_WALL_MM for x in r]).members))
    lumen = Union(tuple(s for pts, r in bronchi for s in tube(pts, r).members))
    return [
        Layer("bronchial_wall", wall, tissues.SOFT_TISSUE, ("Bronchus",)),
        Layer("bronchial_lumen", lumen, tissues.AIR, ("Bronchus",)),
        *_airway(trachea, [8.0, 8.5, 8.5, 7.5], TRACHEA_WALL_MM, "trachea", "Trachea"),
    ]


def _esophagus(variation: Variation) -> list[Layer]:
    """Collapsed muscular tube behind the trachea, slightly left, with a few air pockets."""
    path = [(3.0, 12.0, 140.0), (5.0, 17.0, 60.0), (8.0, 21.0, 0.0), (13.0, 18.0, -80.0), (24.0, 6.0, -132.0),
            (45.0, -14.0, -160.0)]
    wall = Union(tuple(s for dx in (-2.5, 2.5) for s in tube([(x + dx, y, z) for x, y, z in path], 7.0).members))
    pockets = []
    for _ in range(3):
        z0 = variation.uniform(-110.0, 80.0)
        x0 = float(np.interp(-z0, [-p[2] for p in path], [p[0] for p in path]))
        y0 = float(np.interp(-z0, [-p[2] for p in path], [p[1] for p in path]))
        pockets.append(tube([(x0, y0, z0), (x0, y0, z0 - variation.uniform(10.0, 30.0))], 2.5))
    return [
        Layer("esophagus_wall", wall, tissues.MUSCLE, ("Esophagus",)),
        Layer("esophagus_air", Union(tuple(s for p in pockets for s in p.members)), tissues.AIR, ("Esophagus",)),
    ]


def _lung_vessels(variation: Variation, chest: Chest) -> list[Layer]:
    """Pulmonary vessels fanning out from each hilum; they stay inside (and count toward) their lung."""
    layers = []
    for side, lung, name in ((-1.0, chest.lung_r, "Lung_R"), (1.0, chest.lung_l, "Lung_L")):
        hilum = np.array([side * 46.0, 8.0, -15.0])
        branches = []
        for _ in range(12):
            direction = np.array([side * variation.uniform(0.3, 1.0), variation.uniform(-0.8, 0.8),
                                  variation.uniform(-1.0, 0.7)])
            direction /= np.linalg.norm(direction)
            length = variation.uniform(60.0, 115.0)
            bend = np.array([variation.uniform(-10, 10) for _ in range(3)])
            points = [hilum + 6.0 * direction, hilum + 0.5 * length * direction + bend, hilum + length * direction]
            branches.append(tube(points, [4.0, 2.6, 1.2]))
        vessels = Union(tuple(s for b in branches for s in b.members))
        layers.append(Layer(f"pulmonary_vessels_{name}", Intersection((vessels, lung)), tissues.BLOOD, (name,)))
    return layers
