"""Turn a label volume into CT numbers: plateau HU, dependent-lung gradient, blur, noise, padding.

A reconstructed CT is never piecewise constant: the scanner's point-spread function softens every
edge and quantum noise is correlated in-plane. Both are imitated with one in-plane Gaussian
filter applied to (plateau + white noise); the white noise is scaled so that the final noise has
exactly ``noise_sd_hu`` in uniform tissue.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import ndimage

from . import tissues
from .grid import ScanGrid
from .scene import Painted

logger = logging.getLogger(__name__)

#: In-plane blur of the reconstruction (Gaussian sigma, mm): about a 1.2 mm FWHM point-spread function.
BLUR_SIGMA_MM = 0.5
NOISE_SD_HU = 12.0


#: Slices processed together: small enough to stay in cache and avoid allocating full-size temporaries.
SLAB = 8


def synthesize_hu(painted: Painted, grid: ScanGrid, rng: np.random.Generator,
                  noise_sd_hu: float = NOISE_SD_HU) -> np.ndarray:
    """int16 (k, j, i) HU volume; -3024 outside the reconstruction circle."""
    plateau = np.array([tissues.AIR] + [layer.hu for layer in painted.layers], dtype=np.float32)
    gravity = [(index, np.float32(layer.gravity_hu_per_mm)) for index, layer in enumerate(painted.layers, start=1)
               if layer.gravity_hu_per_mm]
    depth = (grid.down * grid.y_mm).astype(np.float32)[:, None]
    sigma_px = BLUR_SIGMA_MM / grid.geometry.spacing_mm[0]
    white_sd = np.float32(noise_sd_hu / _noise_gain(sigma_px))
    outside = ~grid.inside_fov()
    nk, nj, ni = grid.shape
    out = np.empty((nk, nj, ni), dtype=np.int16)
    hu = np.empty((SLAB, nj, ni), dtype=np.float32)
    noise = np.empty_like(hu)
    for start in range(0, nk, SLAB):
        labels = painted.labels[start:start + SLAB]
        slab, white = hu[: len(labels)], noise[: len(labels)]
        np.take(plateau, labels, out=slab)
        for index, gain in gravity:
            slab += np.where(labels == index, gain * depth, np.float32(0.0))
        rng.standard_normal(out=white, dtype=np.float32)
        slab += white * white_sd
        ndimage.gaussian_filter(slab, sigma=(0.0, sigma_px, sigma_px), output=slab, truncate=3.0)
        np.clip(slab, tissues.HU_MIN, tissues.HU_MAX, out=slab)
        np.rint(slab, out=slab)
        out[start:start + SLAB] = slab
        out[start:start + SLAB, outside] = int(tissues.PADDING)
    return out


def _noise_gain(sigma_px: float) -> float:
    """Standard deviation left after the 2D Gaussian filter, for unit white noise."""
    if sigma_px <= 0.0:
        return 1.0
    impulse = np.zeros(31)
    impulse[15] = 1.0
    weights = ndimage.gaussian_filter1d(impulse, sigma_px, truncate=3.0)
    return float(np.sum(weights**2))
