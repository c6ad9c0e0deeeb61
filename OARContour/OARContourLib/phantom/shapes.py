"""Analytic solids in patient LPS millimetres, tested on broadcast voxel-centre coordinates.

Every ``contains(x, y, z)`` receives ``x`` shaped (1, 1, ni), ``y`` (1, nj, 1) and ``z`` (nk, 1, 1),
so a solid whose test separates by axis (ellipses, superellipses) does most of its arithmetic on
small arrays and only broadcasts at the end. ``bounds()`` lets the painter evaluate each solid on
its own sub-block of the grid instead of the whole volume.
"""

from __future__ import annotations

import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

logger = logging.getLogger(__name__)

Vec3 = tuple[float, float, float]
INF = math.inf


def vec3(values: Iterable[float]) -> Vec3:
    """Three floats as a tuple (from a list, generator or numpy array)."""
    x, y, z = (float(v) for v in values)
    return (x, y, z)


@dataclass(frozen=True)
class Box:
    """Axis-aligned LPS bounding box; infinite sides mean 'unbounded'."""

    lo: Vec3
    hi: Vec3

    def intersect(self, other: Box) -> Box:
        lo = vec3(max(a, b) for a, b in zip(self.lo, other.lo, strict=True))
        hi = vec3(min(a, b) for a, b in zip(self.hi, other.hi, strict=True))
        return Box(lo, hi)

    def union(self, other: Box) -> Box:
        lo = vec3(min(a, b) for a, b in zip(self.lo, other.lo, strict=True))
        hi = vec3(max(a, b) for a, b in zip(self.hi, other.hi, strict=True))
        return Box(lo, hi)


EVERYWHERE = Box((-INF, -INF, -INF), (INF, INF, INF))


class Shape(ABC):
    """A solid: a bounding box and an inside test. ``a & b``, ``a | b`` and ``a - b`` combine solids."""

    @abstractmethod
    def bounds(self) -> Box:
        """LPS box that contains every inside point."""

    @abstractmethod
    def contains(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Boolean array (broadcastable to the block) that is True inside the solid."""

    def pieces(self) -> tuple[Shape, ...]:
        """Parts with tighter boxes whose union is this solid; the painter evaluates them one by one."""
        return (self,)

    def __and__(self, other: Shape) -> Shape:
        return Intersection((self, other))

    def __or__(self, other: Shape) -> Shape:
        return Union((self, other))

    def __sub__(self, other: Shape) -> Shape:
        return Difference(self, other)


@dataclass(frozen=True, eq=False)
class Union(Shape):
    members: tuple[Shape, ...]

    def bounds(self) -> Box:
        box = self.members[0].bounds()
        for member in self.members[1:]:
            box = box.union(member.bounds())
        return box

    def contains(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        inside = self.members[0].contains(x, y, z)
        for member in self.members[1:]:
            inside = inside | member.contains(x, y, z)
        return inside

    def pieces(self) -> tuple[Shape, ...]:
        return tuple(piece for member in self.members for piece in member.pieces())


@dataclass(frozen=True, eq=False)
class Intersection(Shape):
    members: tuple[Shape, ...]

    def bounds(self) -> Box:
        box = self.members[0].bounds()
        for member in self.members[1:]:
            box = box.intersect(member.bounds())
        return box

    def contains(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        inside = self.members[0].contains(x, y, z)
        for member in self.members[1:]:
            inside = inside & member.contains(x, y, z)
        return inside

    def pieces(self) -> tuple[Shape, ...]:
        first, rest = self.members[0], self.members[1:]
        parts = first.pieces()
        return (self,) if len(parts) == 1 else tuple(Intersection((p, *rest)) for p in parts)


@dataclass(frozen=True, eq=False)
class Difference(Shape):
    base: Shape
    cut: Shape

    def bounds(self) -> Box:
        return self.base.bounds()

    def contains(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        return self.base.contains(x, y, z) & ~self.cut.contains(x, y, z)

    def pieces(self) -> tuple[Shape, ...]:
        parts = self.base.pieces()
        return (self,) if len(parts) == 1 else tuple(Difference(p, self.cut) for p in parts)


@dataclass(frozen=True)
class Ripple:
    """Smooth relative radius change ``1 + amplitude * cos(k . p + phase)``: no two seeds look alike."""

    amplitude: float
    wavevector: Vec3
    phase: float

    @classmethod
    def random(cls, rng: np.random.Generator, amplitude: float, wavelength_mm: float,
               axes: Vec3 = (1.0, 1.0, 1.0)) -> Ripple:
        """A ripple of the given size along a random direction restricted to ``axes`` (1 = allowed)."""
        direction = rng.normal(size=3) * np.asarray(axes)
        direction /= np.linalg.norm(direction) or 1.0
        k = vec3(float(c) * 2.0 * math.pi / wavelength_mm for c in direction)
        return cls(amplitude, k, float(rng.uniform(0.0, 2.0 * math.pi)))

    def factor(self, x: np.ndarray | float, y: np.ndarray | float, z: np.ndarray | float) -> np.ndarray:
        kx, ky, kz = self.wavevector
        return 1.0 + self.amplitude * np.cos(kx * x + ky * y + kz * z + self.phase)

    @property
    def bound(self) -> float:
        return 1.0 + abs(self.amplitude)


def orthonormal_axes(primary: Sequence[float], secondary: Sequence[float]) -> tuple[Vec3, Vec3, Vec3]:
    """Right-handed unit axes: the first along ``primary``, the second in the primary-secondary plane."""
    e0 = np.asarray(primary, float) / np.linalg.norm(primary)
    e1 = np.asarray(secondary, float) - np.dot(secondary, e0) * e0
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(e0, e1)
    return vec3(e0), vec3(e1), vec3(e2)


@dataclass(frozen=True, eq=False)
class Ellipsoid(Shape):
    """Ellipsoid with semi-axes along ``axes`` (LPS axes when None), optionally rippled."""

    center: Vec3
    semi_mm: Vec3
    axes: tuple[Vec3, Vec3, Vec3] | None = None
    ripple: Ripple | None = None

    def bounds(self) -> Box:
        axes = np.eye(3) if self.axes is None else np.asarray(self.axes)
        half = np.sqrt(((axes * np.asarray(self.semi_mm)[:, None]) ** 2).sum(axis=0))
        half *= self.ripple.bound if self.ripple else 1.0
        c = np.asarray(self.center)
        return Box(vec3(c - half), vec3(c + half))

    def contains(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        d = (x - self.center[0], y - self.center[1], z - self.center[2])
        if self.axes is None:
            q = sum((d[m] / self.semi_mm[m]) ** 2 for m in range(3))
        else:
            q = sum(((a[0] * d[0] + a[1] * d[1] + a[2] * d[2]) / s) ** 2 for a, s in zip(self.axes, self.semi_mm, strict=True))
        limit = 1.0 if self.ripple is None else self.ripple.factor(x, y, z) ** 2
        return np.asarray(q <= limit)

    def inset(self, mm: float) -> Ellipsoid:
        """The same ellipsoid with every semi-axis shorter by ``mm`` (an inner wall surface)."""
        return replace(self, semi_mm=vec3(s - mm for s in self.semi_mm))


@dataclass(frozen=True, eq=False)
class Segment(Shape):
    """Capsule around a line segment whose radius changes linearly from start to end."""

    start: Vec3
    end: Vec3
    r_start_mm: float
    r_end_mm: float

    def bounds(self) -> Box:
        r = max(self.r_start_mm, self.r_end_mm)
        lo = vec3(min(a, b) - r for a, b in zip(self.start, self.end, strict=True))
        hi = vec3(max(a, b) + r for a, b in zip(self.start, self.end, strict=True))
        return Box(lo, hi)

    def contains(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        d = np.subtract(self.end, self.start)
        length2 = float(d @ d) or 1e-12
        px, py, pz = x - self.start[0], y - self.start[1], z - self.start[2]
        t = np.clip((px * d[0] + py * d[1] + pz * d[2]) / length2, 0.0, 1.0)
        r = self.r_start_mm + t * (self.r_end_mm - self.r_start_mm)
        return np.asarray((px - t * d[0]) ** 2 + (py - t * d[1]) ** 2 + (pz - t * d[2]) ** 2 <= r * r)


def tube(points: Sequence[Sequence[float]], radii_mm: Sequence[float] | float) -> Union:
    """A smooth-jointed tube through ``points``: one capsule per segment (radius per point)."""
    pts = [vec3(p) for p in points]
    radii = [float(radii_mm)] * len(pts) if isinstance(radii_mm, (int, float)) else [float(r) for r in radii_mm]
    segments = tuple(
        Segment(pts[m], pts[m + 1], radii[m], radii[m + 1]) for m in range(len(pts) - 1)
    )
    return Union(segments)


def offset_tube(points: Sequence[Sequence[float]], radius_mm: float, offsets: Sequence[Vec3]) -> Union:
    """Several parallel tubes (a flat bar or blade, e.g. the mandible), one per offset vector."""
    parts = [tube([vec3(np.add(p, o)) for p in points], radius_mm) for o in offsets]
    return Union(tuple(s for part in parts for s in part.members))
