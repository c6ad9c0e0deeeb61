"""Seeded, bounded anatomical variation: each seed is a slightly different (still plausible) patient."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .columns import ZColumn, rippled
from .shapes import Ripple, Vec3

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Variation:
    """Draws small perturbations; every draw is clipped to two standard deviations so no seed breaks anatomy."""

    rng: np.random.Generator

    def _unit(self) -> float:
        return float(np.clip(self.rng.normal(), -2.0, 2.0))

    def mm(self, value: float, sd_mm: float) -> float:
        return value + sd_mm * self._unit()

    def scale(self, value: float, relative_sd: float) -> float:
        return value * (1.0 + relative_sd * self._unit())

    def point(self, point: Sequence[float], sd_mm: float) -> Vec3:
        return (self.mm(point[0], sd_mm), self.mm(point[1], sd_mm), self.mm(point[2], sd_mm))

    def ripple(self, amplitude: float = 0.03, wavelength_mm: float = 120.0) -> Ripple:
        return Ripple.random(self.rng, amplitude, wavelength_mm)

    def rippled(self, column: ZColumn, amplitude: float = 0.02, wavelength_mm: float = 160.0) -> ZColumn:
        return rippled(column, self.rng, amplitude, wavelength_mm)

    def uniform(self, low: float, high: float) -> float:
        return float(self.rng.uniform(low, high))
