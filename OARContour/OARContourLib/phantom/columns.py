"""Superellipse columns whose cross-section changes smoothly along z (body, lungs, spine).

A body outline is not an ellipse: a superellipse ``|dx/a|^n + |dy/b|^n <= 1`` with ``n`` between 2
and 3 gives the flattened back and sides of a supine torso. The parameters are given at a few
z knots and interpolated with PCHIP, which never overshoots between knots, so the bounding box
computed from the knots is safe.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.interpolate import PchipInterpolator

from .shapes import Box, Ripple, Shape

logger = logging.getLogger(__name__)

#: One knot: (z, centre x, centre y, semi-axis a along x, semi-axis b along y, exponent n), in mm.
Knot = tuple[float, float, float, float, float, float]


def _knot(values: Sequence[float]) -> Knot:
    z, cx, cy, a, b, n = (float(v) for v in values)
    return (z, cx, cy, a, b, n)


@dataclass(frozen=True)
class Profile:
    """Cross-section parameters at increasing z knots."""

    knots: tuple[Knot, ...]

    @classmethod
    def of(cls, knots: Sequence[Sequence[float]]) -> Profile:
        ordered = sorted((_knot(k) for k in knots), key=lambda k: k[0])
        return cls(tuple(ordered))

    def at(self, z: np.ndarray) -> np.ndarray:
        """(5, len(z)) array of cx, cy, a, b, n; constant beyond the first and last knot."""
        table = np.asarray(self.knots, dtype=float)
        zc = np.clip(np.asarray(z, dtype=float), table[0, 0], table[-1, 0])
        if len(table) == 1:
            return np.repeat(table[0, 1:, None], zc.size, axis=1)
        return PchipInterpolator(table[:, 0], table[:, 1:], axis=0)(zc).T

    def moved(self, dx: float = 0.0, dy: float = 0.0, scale_a: float = 1.0, scale_b: float = 1.0) -> Profile:
        return Profile(tuple((k[0], k[1] + dx, k[2] + dy, k[3] * scale_a, k[4] * scale_b, k[5]) for k in self.knots))

    def extent(self) -> tuple[float, float, float, float]:
        """x_min, x_max, y_min, y_max over all knots."""
        t = np.asarray(self.knots)
        return (float((t[:, 1] - t[:, 3]).min()), float((t[:, 1] + t[:, 3]).max()),
                float((t[:, 2] - t[:, 4]).min()), float((t[:, 2] + t[:, 4]).max()))


@dataclass(frozen=True, eq=False)
class ZColumn(Shape):
    """Superellipse column between ``z_lo`` and ``z_hi``, shrunk by ``inset_mm`` all round.

    ``ripple_a`` scales the x semi-axis depending on (x, z) and ``ripple_b`` the y semi-axis
    depending on (y, z), which keeps the test separable and therefore cheap on a 512² grid.
    """

    profile: Profile
    z_lo: float
    z_hi: float
    inset_mm: float = 0.0
    ripple_a: Ripple | None = None
    ripple_b: Ripple | None = None

    def bounds(self) -> Box:
        x0, x1, y0, y1 = self.profile.extent()
        grow_a = self.ripple_a.bound if self.ripple_a else 1.0
        grow_b = self.ripple_b.bound if self.ripple_b else 1.0
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        half_x, half_y = (x1 - x0) / 2 * grow_a, (y1 - y0) / 2 * grow_b
        return Box((cx - half_x, cy - half_y, self.z_lo), (cx + half_x, cy + half_y, self.z_hi))

    def contains(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        zz = z[:, 0, 0]
        cx, cy, a, b, n = (p[:, None, None] for p in self.profile.at(zz))
        a, b = a - self.inset_mm, b - self.inset_mm
        valid = (a > 0.5) & (b > 0.5) & (z >= self.z_lo) & (z <= self.z_hi)
        a, b = np.where(valid, a, 1e-3), np.where(valid, b, 1e-3)
        if self.ripple_a is not None:
            a = a * self.ripple_a.factor(x, 0.0, z)
        if self.ripple_b is not None:
            b = b * self.ripple_b.factor(0.0, y, z)
        with np.errstate(over="ignore", invalid="ignore"):
            tx = (np.abs(x - cx) / a) ** n
            ty = (np.abs(y - cy) / b) ** n
        return np.asarray(((tx + ty) <= 1.0) & valid)

    def inset(self, mm: float) -> ZColumn:
        """Inner surface ``mm`` inside the wall, including the end caps."""
        return replace(self, inset_mm=self.inset_mm + mm, z_lo=self.z_lo + mm, z_hi=self.z_hi - mm)

    def section(self, z: float) -> tuple[float, float, float, float, float]:
        """cx, cy, a, b, n of the cross-section at ``z`` (after the inset, without ripple)."""
        cx, cy, a, b, n = (float(v[0]) for v in self.profile.at(np.array([z])))
        return cx, cy, a - self.inset_mm, b - self.inset_mm, n


def rippled(column: ZColumn, rng: np.random.Generator, amplitude: float, wavelength_mm: float) -> ZColumn:
    """``column`` with a seeded, smooth, separable surface ripple (x-z for ``a``, y-z for ``b``)."""
    return replace(column, ripple_a=Ripple.random(rng, amplitude, wavelength_mm, axes=(1.0, 0.0, 1.0)),
                   ripple_b=Ripple.random(rng, amplitude, wavelength_mm, axes=(0.0, 1.0, 1.0)))


def superellipse_point(section: tuple[float, float, float, float, float], angle_rad: float,
                       grow_mm: float = 0.0) -> tuple[float, float]:
    """Point of a cross-section outline at polar ``angle_rad`` (0 = +x, pi/2 = +y), pushed out by ``grow_mm``."""
    cx, cy, a, b, n = section
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    x = (a + grow_mm) * np.sign(c) * abs(c) ** (2.0 / n)
    y = (b + grow_mm) * np.sign(s) * abs(s) ** (2.0 / n)
    return float(cx + x), float(cy + y)
