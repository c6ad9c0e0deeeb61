"""Build a phantom in memory: grid, anatomy, couch, labels, masks and HU."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..progress import ProgressCallback, report, scaled
from . import headneck, thorax
from .couch import couch_layers
from .grid import ScanPlan, make_grid
from .image import synthesize_hu
from .model import PatientPosition, PhantomVariant, PhantomVolume, parse_choice
from .scene import Anatomy, add_layers, clear_outside_fov, couch_mask, lowest_body_depth, paint, structure_mask
from .variation import Variation

logger = logging.getLogger(__name__)

#: Refuse grids above this many voxels: 4 bytes of float HU each would exceed about 4 GB.
MAX_VOXELS = 1_000_000_000
#: Independent random streams, so that e.g. changing the noise never changes the anatomy.
ANATOMY_STREAM, NOISE_STREAM = 1, 2


@dataclass(frozen=True)
class PhantomRequest:
    """Validated build arguments (slices and spacing already resolved from the variant's plan)."""

    variant: PhantomVariant
    rows: int
    columns: int
    slices: int
    pixel_spacing_mm: float
    slice_spacing_mm: float
    patient_position: PatientPosition
    seed: int

    @property
    def identity(self) -> str:
        """Everything that changes the pixels; UIDs are derived from it."""
        return (f"{self.variant.value}|{self.patient_position.value}|seed={self.seed}|"
                f"{self.rows}x{self.columns}x{self.slices}|{self.pixel_spacing_mm!r}|{self.slice_spacing_mm!r}")


def plan_for(variant: PhantomVariant) -> ScanPlan:
    return thorax.PLAN if variant is PhantomVariant.THORAX else headneck.PLAN


def make_request(variant: PhantomVariant | str, rows: int, columns: int, slices: int | None,
                 pixel_spacing_mm: float, slice_spacing_mm: float | None,
                 patient_position: PatientPosition | str, seed: int) -> PhantomRequest:
    """Check every argument before any work is done.

    Raises
    ------
    InputError
        For an unknown variant or position, a non-positive size or spacing, a negative seed, or a
        grid too large to build in memory.
    """
    chosen = parse_choice(PhantomVariant, variant, "phantom variant")
    position = parse_choice(PatientPosition, patient_position, "patient position")
    _require_int("rows", rows, 8)
    _require_int("columns", columns, 8)
    _require_int("seed", seed, 0)
    if slices is not None:
        _require_int("slices", slices, 2)
    _require_positive("pixel_spacing_mm", pixel_spacing_mm)
    if slice_spacing_mm is not None:
        _require_positive("slice_spacing_mm", slice_spacing_mm)
    n, spacing = plan_for(chosen).resolve(slices, slice_spacing_mm)
    if rows * columns * n > MAX_VOXELS:
        raise InputError(f"A {rows}x{columns}x{n} phantom has too many voxels to build in memory.",
                         hint="Use fewer rows, columns or slices.")
    return PhantomRequest(chosen, rows, columns, n, float(pixel_spacing_mm), float(spacing), position, seed)


def _require_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {value!r}.", hint=f"Pass a valid {name}.")


def _require_positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise InputError(f"{name} must be a positive number of millimetres, got {value!r}.",
                         hint=f"Pass a positive {name}.")


def build_phantom(
    *,
    variant: PhantomVariant | str = "thorax",
    rows: int = 512,
    columns: int = 512,
    slices: int | None = None,
    pixel_spacing_mm: float = 0.977,
    slice_spacing_mm: float | None = None,
    patient_position: PatientPosition | str = "HFS",
    seed: int = 0,
    progress: ProgressCallback | None = None,
) -> PhantomVolume:
    """Build the anatomical CT phantom in memory (nothing is written).

    Parameters
    ----------
    variant
        ``"thorax"`` (lower neck to kidneys) or ``"headneck"`` (vertex to lower neck).
    rows, columns
        Image matrix. The anatomy is in millimetres, so a small matrix needs a larger
        ``pixel_spacing_mm`` to keep the field of view (about 500 mm) around the patient.
    slices, slice_spacing_mm
        Both None: the variant's clinical default (thorax 120 x 3 mm, head and neck 112 x 2.5 mm).
        One given: the other is chosen to cover the same range. Both given: centred on that range.
    pixel_spacing_mm
        Row and column spacing.
    patient_position
        HFS, HFP, FFS or FFP; the anatomy stays correct in LPS for each.
    seed
        Seeds the anatomical variation and the noise; the same seed gives identical voxels.
    progress
        ``progress(fraction, message) -> cancel``.

    Returns
    -------
    PhantomVolume
        HU (int16, k j i), one bool mask per structure, the couch mask and the geometry.

    Raises
    ------
    InputError
        For an unknown variant or position, a non-positive size or spacing, or a negative seed.
    CancelledError
        When ``progress`` asks to stop.
    """
    request = make_request(variant, rows, columns, slices, pixel_spacing_mm, slice_spacing_mm, patient_position, seed)
    return build_volume(request, progress)


def build_volume(request: PhantomRequest, progress: ProgressCallback | None = None) -> PhantomVolume:
    """Voxelise the anatomy of ``request`` and synthesise its CT numbers."""
    started = time.perf_counter()
    grid = make_grid(plan_for(request.variant), request.rows, request.columns, request.slices,
                     request.pixel_spacing_mm, request.slice_spacing_mm, request.patient_position)
    anatomy = _anatomy(request)
    painted = paint(anatomy.layers, grid, scaled(progress, 0.0, 0.55))
    lowest = lowest_body_depth(painted, grid)
    if lowest is None:  # no patient in the scanned range: put the couch under the body's box
        box = anatomy.body.bounds()
        lowest = box.hi[1] if grid.down > 0 else -box.lo[1]
    painted = add_layers(painted, tuple(couch_layers(lowest, grid.down)), grid)
    clear_outside_fov(painted, grid)
    report(progress, 0.6, "Deriving ground-truth masks")
    masks = {name: structure_mask(painted, name) for name in anatomy.structures}
    empty = [name for name, mask in masks.items() if not mask.any()]
    if empty:
        logger.warning("No voxel of %s at this resolution; use smaller spacings to resolve them.", ", ".join(empty))
    report(progress, 0.75, "Synthesising CT numbers")
    # SFC64 draws normal deviates twice as fast as the default PCG64; both are stable across platforms.
    noise = np.random.Generator(np.random.SFC64(np.random.SeedSequence([request.seed, NOISE_STREAM])))
    hu = synthesize_hu(painted, grid, noise)
    report(progress, 1.0, "Phantom built")
    logger.info("Built %s phantom %s in %.2f s", request.variant.value, grid.shape, time.perf_counter() - started)
    return PhantomVolume(request.variant, request.patient_position, request.seed, hu, masks, couch_mask(painted),
                         grid.geometry)


def _anatomy(request: PhantomRequest) -> Anatomy:
    variation = Variation(np.random.default_rng([request.seed, ANATOMY_STREAM]))
    module = thorax if request.variant is PhantomVariant.THORAX else headneck
    return module.build(variation)
