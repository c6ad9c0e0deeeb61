"""Directional margins: a different margin in mm toward each patient direction (A, P, L, R, S, I).

Clinical margins are often asymmetric: CTV→PTV 7 mm but 5 mm posterior, prostate 10 mm but 6 mm
posterior. The six margins are in patient directions, so the image orientation decides which array
axis and which index direction each one acts on (HFS, FFS, HFP and FFP flip axes, and slices may run
either way); :func:`margins_along_array_axes` reads that from the direction cosines (LPS: +x left,
+y posterior, +z superior). Oblique image axes are refused: their margins would mix directions.

Exact rule, measured from the structure's surface as :func:`~.margins.expand` measures it. The gauge
of an offset ``d`` (mm, per array axis) is ``g(d) = sqrt(sum((d_a / m_a(sign of d_a))**2))``, the
half-axis in each octant being the margin toward that octant's directions (a zero margin makes any
offset that way infinite). A voxel centre ``p`` belongs to ``expand_directional(mask, ...)`` iff
``g(p - q) - depth(q) / 2 <= 1``, where ``q`` is the mask voxel of smallest ``g(p - q)`` and
``depth(q)`` is the gauge from ``q`` out to the nearest outside voxel centre: the surface lies midway
between them, as in ``margins._scaled_distance``. So six equal margins give exactly
:func:`~.margins.expand` (``CTV:7,post=6.9`` differs from ``CTV:7`` only on the posterior side), a flat
face whose nearest outside centres lie straight ahead moves by the margin rounded to the nearest
voxel, and a zero margin
still grows nothing that way.

Because ``g**2`` is separable, the smallest one over mask voxels is computed exactly by one min-plus
pass per axis over the few voxel offsets a margin reaches (16 for 15 mm on 0.98 mm pixels), each pass
recording its offset so the nearest voxel can be traced back; all on the mask's bounding box padded
by the margins plus the allowance.
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from ..errors import InputError
from .margins import checked_mask, padded_box

logger = logging.getLogger(__name__)

#: Largest angle between an image axis and the nearest patient axis that still counts as aligned;
#: at 0.1° a 15 mm margin leans 0.03 mm sideways, a thirtieth of a 0.98 mm pixel.
MAX_OBLIQUE_DEG = 0.1
#: Slack on the ellipsoid test, so an offset exactly at the margin (5 × 0.98 mm = 4.9 mm) is inside.
_TOLERANCE = 1e-5
#: Per array axis (k, j, i): margin in mm toward the lower index and toward the higher index.
AxisMargins = tuple[tuple[float, float], tuple[float, float], tuple[float, float]]


class PatientDirection(str, enum.Enum):
    """A patient direction, named by its DICOM letter; ``axis`` and ``sign`` place it in LPS."""

    ANTERIOR = "A"
    POSTERIOR = "P"
    LEFT = "L"
    RIGHT = "R"
    SUPERIOR = "S"
    INFERIOR = "I"

    @property
    def axis(self) -> int:
        """0, 1, 2 for the LPS x (right-left), y (anterior-posterior), z (inferior-superior) axis."""
        return {"L": 0, "R": 0, "A": 1, "P": 1, "S": 2, "I": 2}[self.value]

    @property
    def sign(self) -> int:
        """+1 when the direction points along +x, +y or +z of LPS (left, posterior, superior)."""
        return 1 if self.value in "LPS" else -1


@dataclass(frozen=True)
class DirectionalMargin:
    """Margins in mm toward the six patient directions; all finite and ≥ 0.

    Raises
    ------
    InputError
        A negative, infinite or NaN margin (the message names the direction).
    """

    anterior_mm: float
    posterior_mm: float
    left_mm: float
    right_mm: float
    superior_mm: float
    inferior_mm: float

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not (isinstance(value, (int, float, np.floating)) and math.isfinite(value) and value >= 0):
                direction = field.name.removesuffix("_mm")
                raise InputError(f"The {direction} margin {value!r} is not a number of mm ≥ 0.",
                                 hint="Give every directional margin as a finite number of mm, 0 or more.")

    @classmethod
    def uniform(cls, margin_mm: float) -> DirectionalMargin:
        """The same margin in every direction."""
        return cls(*(float(margin_mm),) * 6)

    def toward(self, direction: PatientDirection) -> float:
        """The margin in mm toward ``direction``."""
        return float(getattr(self, f"{direction.name.lower()}_mm"))

    def with_margin(self, direction: PatientDirection, margin_mm: float) -> DirectionalMargin:
        """A copy with the margin toward ``direction`` replaced."""
        return replace(self, **{f"{direction.name.lower()}_mm": float(margin_mm)})

    def mirrored(self) -> DirectionalMargin:
        """Each margin moved to the opposite direction (what :func:`shrink_directional` expands by)."""
        return DirectionalMargin(self.posterior_mm, self.anterior_mm, self.right_mm, self.left_mm,
                                 self.inferior_mm, self.superior_mm)

    @property
    def is_uniform(self) -> bool:
        return len({getattr(self, f.name) for f in fields(self)}) == 1

    def to_dict(self) -> dict[str, Any]:
        return {d.name.lower(): self.toward(d) for d in PatientDirection}

    def __str__(self) -> str:
        return ",".join(f"{d.value}={self.toward(d):g}" for d in PatientDirection)


def margins_along_array_axes(margin: DirectionalMargin, ijk_to_lps: np.ndarray) -> AxisMargins:
    """Turn patient-direction margins into (toward lower index, toward higher index) per axis (k, j, i).

    Parameters
    ----------
    margin
        The six margins.
    ijk_to_lps
        The image's 4×4 voxel-index-to-LPS matrix (``ImageGeometry.ijk_to_lps()``), or just its 3×3
        part or direction cosines: columns are the i, j, k axes; only their directions are used.

    Raises
    ------
    InputError
        An image axis more than :data:`MAX_OBLIQUE_DEG` off every patient axis (oblique or tilted
        scan), or two image axes along the same patient axis.
    """
    matrix = np.asarray(ijk_to_lps, dtype=float)[:3, :3]
    lengths = np.linalg.norm(matrix, axis=0)
    if matrix.shape != (3, 3) or not np.all(np.isfinite(matrix)) or not np.all(lengths > 0):
        raise InputError(f"Image orientation {ijk_to_lps!r} is not a 3×3 or 4×4 voxel-to-LPS matrix.",
                         hint="Pass the CT geometry's ijk_to_lps() matrix.")
    units = matrix / lengths
    per_axis: list[tuple[float, float]] = []
    used: set[int] = set()
    for column, label in ((2, "k (slice)"), (1, "j (row)"), (0, "i (column)")):
        axis = int(np.argmax(np.abs(units[:, column])))
        _check_aligned(units[:, column], axis, label, used)
        used.add(axis)
        ahead = next(d for d in PatientDirection if d.axis == axis and d.sign == np.sign(units[axis, column]))
        behind = next(d for d in PatientDirection if d.axis == axis and d is not ahead)
        per_axis.append((margin.toward(behind), margin.toward(ahead)))
    return per_axis[0], per_axis[1], per_axis[2]


def _check_aligned(unit: np.ndarray, axis: int, label: str, used: set[int]) -> None:
    off_deg = math.degrees(math.acos(min(1.0, abs(float(unit[axis])))))
    if off_deg > MAX_OBLIQUE_DEG:
        raise InputError(
            f"Image axis {label} points {tuple(round(float(v), 4) for v in unit)} in LPS, {off_deg:.2f}° away from "
            f"the nearest patient axis; directional margins need axes along left-right, anterior-posterior and "
            f"superior-inferior (at most {MAX_OBLIQUE_DEG}° off), or each margin would act on a mix of directions.",
            hint="Resample the CT and structures to an axis-aligned grid first, or use an isotropic margin.")
    if axis in used:
        raise InputError(f"Image axis {label} runs along the same patient axis as another image axis.",
                         hint="Check the image orientation; the voxel-to-LPS matrix is degenerate.")


def expand_directional(mask: np.ndarray, spacing_mm_kji: Sequence[float], margin: DirectionalMargin,
                       ijk_to_lps: np.ndarray) -> np.ndarray:
    """Grow a mask by a different margin toward each patient direction (see the module docstring).

    Parameters
    ----------
    mask
        Boolean (k, j, i) array on the image grid.
    spacing_mm_kji
        Voxel spacing in mm, (slice, row, column).
    margin
        Margins toward the six patient directions.
    ijk_to_lps
        Voxel-index-to-LPS matrix of the grid (see :func:`margins_along_array_axes`).

    Returns
    -------
    numpy.ndarray
        A new boolean array of the same shape, clipped at the grid edge; the input is never modified.

    Raises
    ------
    InputError
        An oblique or degenerate orientation.
    GeometryError
        The mask is not 3-D or the spacing is not three positive numbers.
    """
    mask = checked_mask(mask, spacing_mm_kji)
    axis_margins = margins_along_array_axes(margin, ijk_to_lps)
    reach = _growth_reach(axis_margins, spacing_mm_kji)
    if not mask.any() or not any(any(r) for r in reach):
        return mask.copy()
    box = _padded_box(mask, reach)
    result = np.zeros_like(mask)
    result[box] = _dilate(mask[box], spacing_mm_kji, axis_margins)
    return result


def shrink_directional(mask: np.ndarray, spacing_mm_kji: Sequence[float], margin: DirectionalMargin,
                       ijk_to_lps: np.ndarray) -> np.ndarray:
    """Contract a mask by a margin toward each patient direction.

    The surface moves inward by each margin: ``posterior_mm=5`` moves the posterior surface 5 mm
    anterior. The result is the complement of expanding the complement by
    :meth:`DirectionalMargin.mirrored`, so it too is measured from the surface.
    Space outside the grid counts as background, as in :func:`~.margins.shrink`.

    Parameters
    ----------
    mask, spacing_mm_kji, margin, ijk_to_lps
        As for :func:`expand_directional`.

    Returns
    -------
    numpy.ndarray
        A new boolean array of the same shape (possibly empty).

    Raises
    ------
    InputError, GeometryError
        As for :func:`expand_directional`.
    """
    mask = checked_mask(mask, spacing_mm_kji)
    axis_margins = margins_along_array_axes(margin.mirrored(), ijk_to_lps)
    reach = _growth_reach(axis_margins, spacing_mm_kji)
    if not mask.any() or not any(any(r) for r in reach):
        return mask.copy()
    box = padded_box(mask, (0, 0, 0))
    pads = [(max(r) + 1, max(r) + 1) for r in reach]  # background all round stands for outside the box
    background = ~np.pad(mask[box], pads, constant_values=False)
    grown = _dilate(background, spacing_mm_kji, axis_margins)
    inner = tuple(slice(lo, grown.shape[a] - hi) for a, (lo, hi) in enumerate(pads))
    result = np.zeros_like(mask)
    result[box] = ~grown[inner]
    return result


def _dilate(mask: np.ndarray, spacing_mm_kji: Sequence[float], axis_margins: AxisMargins) -> np.ndarray:
    """Asymmetric-ellipsoid dilation of ``mask`` measured from its surface (no clipping beyond the array)."""
    allowance = _largest_step(spacing_mm_kji, axis_margins) / 2
    depth = _depth(mask, spacing_mm_kji, axis_margins, 2 * allowance)
    nearest = tuple(np.zeros(mask.shape, dtype=np.int16) for _ in range(3))
    cost = _gauge_squared(mask, spacing_mm_kji, axis_margins, _growth_reach(axis_margins, spacing_mm_kji), nearest)
    grown = mask.copy()
    reachable = np.nonzero((cost <= (1 + allowance) ** 2 * (1 + _TOLERANCE)) & ~mask)
    gauge = np.sqrt(cost[reachable].astype(float))
    grown[reachable] = gauge - depth[_nearest_voxel(reachable, nearest)] / 2 <= 1 + _TOLERANCE
    return grown


def _depth(mask: np.ndarray, spacing_mm_kji: Sequence[float], axis_margins: AxisMargins,
           cap: float) -> np.ndarray:
    """Gauge distance from each mask voxel centre to the nearest outside centre, at most ``cap``.

    The offset is measured outward (mask voxel to outside voxel), hence the mirrored margins when
    dilating the outside. Only voxels at most one step from the outside are ever used, so offsets
    beyond ``cap`` (the largest one-voxel step) are not searched.
    """
    mirrored = tuple((hi, lo) for lo, hi in axis_margins)
    reach = [(_steps(lo * cap, float(s)), _steps(hi * cap, float(s))) for (lo, hi), s in zip(mirrored, spacing_mm_kji)]
    cost = _gauge_squared(~mask, spacing_mm_kji, (mirrored[0], mirrored[1], mirrored[2]), reach, None)
    return np.sqrt(np.minimum(cost, np.float32(cap * cap)))


def _largest_step(spacing_mm_kji: Sequence[float], axis_margins: AxisMargins) -> float:
    """The largest gauge length of a one-voxel step in a direction with a margin."""
    return max(float(s) / m for (lo, hi), s in zip(axis_margins, spacing_mm_kji) for m in (lo, hi) if m > 0)


def _growth_reach(axis_margins: AxisMargins, spacing_mm_kji: Sequence[float]) -> list[tuple[int, int]]:
    """Voxels reached toward (lower, higher) index per axis: the margin plus the largest surface allowance."""
    if not any(m > 0 for pair in axis_margins for m in pair):
        return [(0, 0)] * 3
    scale = 1 + _largest_step(spacing_mm_kji, axis_margins) / 2
    return [(_steps(lo * scale, float(s)), _steps(hi * scale, float(s))) for (lo, hi), s in zip(axis_margins, spacing_mm_kji)]


def _gauge_squared(mask: np.ndarray, spacing_mm_kji: Sequence[float], axis_margins: AxisMargins,
                   reach: Sequence[tuple[int, int]], nearest: tuple[np.ndarray, ...] | None) -> np.ndarray:
    """Smallest sum of (offset mm / margin)² from a mask voxel, within ``reach`` voxels per axis.

    The sum is separable, so one min-plus pass per axis is exact. With ``nearest`` (three int16 arrays,
    k, j, i), each pass records the offset it chose, for :func:`_nearest_voxel`.
    """
    cost, row_offset = _row_cost(mask, float(spacing_mm_kji[2]), axis_margins[2], reach[2])
    if nearest is not None:
        nearest[2][...] = row_offset
    for axis in (1, 0):
        cost = _min_plus(cost, axis, float(spacing_mm_kji[axis]), axis_margins[axis], reach[axis],
                         None if nearest is None else nearest[axis])
    return cost


def _nearest_voxel(voxels: tuple[np.ndarray, ...], nearest: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """The mask voxel each of ``voxels`` (k, j, i index arrays) got its cost from, passes undone in reverse."""
    k, j, i = voxels
    k = k - nearest[0][k, j, i]
    j = j - nearest[1][k, j, i]
    return k, j, i - nearest[2][k, j, i]


def _row_cost(mask: np.ndarray, spacing_mm: float, margins_mm: tuple[float, float],
              reach: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The first pass, along i, from the nearest mask voxel before and after each voxel in its row.

    Equal to :func:`_min_plus` on a 0/inf cost, but a few whole-array steps instead of one per offset.
    Also returns the signed offset (voxel minus mask voxel) of the one chosen.
    """
    toward_lower, toward_higher = margins_mm
    index = np.arange(mask.shape[2], dtype=np.int32)
    far = np.int32(-(2**30))  # no mask voxel on that side: an offset no margin reaches
    before = np.maximum.accumulate(np.where(mask, index, far), axis=2)  # nearest mask voxel at or before
    after = np.maximum.accumulate(np.where(mask, -index, far)[:, :, ::-1], axis=2)[:, :, ::-1]  # -(at or after)
    from_before, from_after = index - before, -after - index
    cost = _offset_cost(from_before, spacing_mm, toward_higher, reach[1])
    cost_after = _offset_cost(from_after, spacing_mm, toward_lower, reach[0])
    use_after = cost_after < cost
    np.copyto(cost, cost_after, where=use_after)
    offset = np.where(use_after, -np.minimum(from_after, reach[0]), np.minimum(from_before, reach[1]))
    return cost, offset.astype(np.int16)


def _offset_cost(offset: np.ndarray, spacing_mm: float, margin_mm: float, reach: int) -> np.ndarray:
    """(offset mm / margin)² up to ``reach`` voxels, else inf."""
    reachable = offset <= reach
    if margin_mm <= 0:
        return np.where(reachable, np.float32(0), np.float32(np.inf))
    scaled = offset.astype(np.float32) * np.float32(spacing_mm / margin_mm)
    return np.where(reachable, scaled * scaled, np.float32(np.inf))


def _min_plus(cost: np.ndarray, axis: int, spacing_mm: float, margins_mm: tuple[float, float],
              reach: tuple[int, int], nearest: np.ndarray | None) -> np.ndarray:
    """Along one axis: out[p] = min over offsets d within reach of cost[p - d] + (d mm / margin)².

    With ``nearest``, the chosen d is stored there (the first of equal ones, 0 before d = ±1).
    """
    out = cost.copy()
    scratch = np.empty_like(cost)
    for margin_mm, step, steps in ((margins_mm[1], 1, reach[1]), (margins_mm[0], -1, reach[0])):
        for offset in range(1, min(steps, cost.shape[axis] - 1) + 1):
            size = cost.shape[axis] - offset
            source = _along(axis, slice(0, size) if step > 0 else slice(offset, None))
            target = _along(axis, slice(offset, None) if step > 0 else slice(0, size))
            view = scratch[target]
            np.add(cost[source], np.float32((offset * spacing_mm / margin_mm) ** 2), out=view)
            if nearest is None:
                np.minimum(out[target], view, out=out[target])
            else:
                closer = view < out[target]
                np.copyto(out[target], view, where=closer)
                np.copyto(nearest[target], np.int16(step * offset), where=closer)
    return out


def _along(axis: int, part: slice) -> tuple[slice, ...]:
    index = [slice(None)] * 3
    index[axis] = part
    return tuple(index)


def _steps(margin_mm: float, spacing_mm: float) -> int:
    """How many voxels a margin reaches along an axis (offsets exactly at the margin count)."""
    return 0 if margin_mm <= 0 else int(math.floor(margin_mm / spacing_mm * (1 + 1e-9) + 1e-9))


def _padded_box(mask: np.ndarray, reach: Sequence[tuple[int, int]]) -> tuple[slice, ...]:
    """Bounding box of ``mask`` grown by (toward lower, toward higher) voxels per axis, clipped to the grid."""
    tight = padded_box(mask, (0, 0, 0))
    return tuple(slice(max(part.start - lower, 0), min(part.stop + higher, size))
                 for part, (lower, higher), size in zip(tight, reach, mask.shape))
