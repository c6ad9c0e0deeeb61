"""Unbounded solids used to clip others: domes (diaphragm, lung apex), limits and the couch plate."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .shapes import EVERYWHERE, INF, Box, Shape, vec3

logger = logging.getLogger(__name__)


class Surface(ABC):
    """A height field z = f(x, y) in LPS millimetres."""

    @abstractmethod
    def z_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Height of the surface above (x, y)."""


@dataclass(frozen=True)
class Dome(Surface):
    """Paraboloid cap: highest (``apex_z``) at (x0, y0), falling ``drop_mm`` at one radius away."""

    x0: float
    y0: float
    apex_z: float
    radius_x: float
    radius_y: float
    drop_mm: float

    def z_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.apex_z - self.drop_mm * (((x - self.x0) / self.radius_x) ** 2 + ((y - self.y0) / self.radius_y) ** 2)


@dataclass(frozen=True)
class Highest(Surface):
    """The upper envelope of several surfaces (the two domes of the diaphragm)."""

    surfaces: tuple[Surface, ...]

    def z_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.maximum.reduce(np.broadcast_arrays(*(s.z_at(x, y) for s in self.surfaces)))


@dataclass(frozen=True, eq=False)
class Above(Shape):
    surface: Surface
    offset_mm: float = 0.0

    def bounds(self) -> Box:
        return EVERYWHERE

    def contains(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        return np.asarray(z >= self.surface.z_at(x, y) + self.offset_mm)


@dataclass(frozen=True, eq=False)
class Below(Shape):
    surface: Surface
    offset_mm: float = 0.0

    def bounds(self) -> Box:
        return EVERYWHERE

    def contains(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        return np.asarray(z <= self.surface.z_at(x, y) + self.offset_mm)


@dataclass(frozen=True, eq=False)
class AxisLimit(Shape):
    """Half-space ``coordinate[axis] <= limit(z)`` (or ``>=``), limit linear between z knots."""

    axis: int
    z_mm: tuple[float, ...]
    limit_mm: tuple[float, ...]
    less_than: bool = True

    @classmethod
    def of(cls, axis: int, knots: Sequence[tuple[float, float]], less_than: bool = True) -> AxisLimit:
        ordered = sorted(knots)
        return cls(axis, tuple(k[0] for k in ordered), tuple(k[1] for k in ordered), less_than)

    def bounds(self) -> Box:
        lo, hi = [-INF] * 3, [INF] * 3
        if self.less_than:
            hi[self.axis] = max(self.limit_mm)
        else:
            lo[self.axis] = min(self.limit_mm)
        return Box(vec3(lo), vec3(hi))

    def contains(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        limit = np.interp(z, self.z_mm, self.limit_mm)
        value = (x, y, z)[self.axis]
        return np.asarray(value <= limit if self.less_than else value >= limit)


@dataclass(frozen=True, eq=False)
class CurvedPlate(Shape):
    """A couch layer: depth ``d0..d1`` below a surface that rises at the sides, along all z.

    Depth is measured toward the floor of the scanner: ``down`` is +1 when the couch is posterior
    (supine) and -1 when it is anterior (prone), so one definition serves every patient position.
    """

    down: float
    top_mm: float
    curvature_per_mm: float
    d0_mm: float
    d1_mm: float
    half_width_mm: float

    def bounds(self) -> Box:
        rise = self.curvature_per_mm * self.half_width_mm**2
        near, far = self.top_mm - rise + self.d0_mm, self.top_mm + self.d1_mm
        y0, y1 = sorted((self.down * near, self.down * far))
        return Box((-self.half_width_mm, y0, -INF), (self.half_width_mm, y1, INF))

    def contains(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        depth = self.down * y - (self.top_mm - self.curvature_per_mm * x * x)
        inside = (depth >= self.d0_mm) & (depth <= self.d1_mm) & (np.abs(x) <= self.half_width_mm)
        return np.broadcast_to(inside, np.broadcast_shapes(inside.shape, z.shape))
