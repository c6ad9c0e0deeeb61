"""Contours in patient space: index loops → LPS points → DS text within DICOM's limits.

Points are placed with the geometry of the slice they lie on (its Image Position), never from a
NIfTI affine. Every value is written with a fixed number of decimals, so no DS exceeds 16 bytes.
A contour whose ContourData would exceed 65534 bytes is split along a voxel-boundary grid line;
the halves rasterise to exactly the same voxels (no voxel centre lies on the cut).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ct.model import CTVolume
from ..errors import ExportError

#: Explicit-VR 16-bit value length of ContourData (PS3.3 C.8.8.6).
MAX_CONTOUR_DATA_BYTES = 65534
MAX_DS_BYTES = 16


@dataclass(frozen=True)
class PatientContour:
    """One closed planar contour ready for the ROI Contour Module."""

    slice_index: int
    contour_data: str
    point_count: int


def loops_to_lps(points_ij: np.ndarray, slice_k: np.ndarray, ct: CTVolume) -> np.ndarray:
    """LPS millimetres of index points ``(i, j)`` on slices ``k``, from each slice's own position."""
    geometry = ct.geometry
    direction = geometry.direction_matrix
    step_i = direction[:, 0] * geometry.spacing_mm[0]
    step_j = direction[:, 1] * geometry.spacing_mm[1]
    positions = np.array([s.image_position_patient for s in ct.slices], dtype=float)
    return positions[slice_k] + points_ij[:, :1] * step_i + points_ij[:, 1:2] * step_j


def format_values(values: np.ndarray, decimals: int) -> list[str]:
    """DS strings with ``decimals`` decimals; refuses any that would exceed 16 bytes."""
    text = [f"{v:.{decimals}f}" for v in np.round(values.ravel(), decimals).tolist()]
    longest = max((len(t) for t in text), default=0)
    if longest > MAX_DS_BYTES:
        raise ExportError(f"A coordinate needs {longest} characters, more than the 16 allowed for DS.",
                          hint="Coordinates beyond ±10^9 mm indicate a broken CT geometry.")
    return text


def format_points(points_ij: np.ndarray, slice_k: np.ndarray, ct: CTVolume, decimals: int) -> list[str]:
    """x, y, z strings of every point, interleaved, exactly as :func:`format_values` would write them.

    Contour corners lie on the half-voxel lattice, so on an axis-aligned grid each coordinate takes
    one of a few hundred values: format those once and look them up (millions of points per
    structure set would otherwise each go through Python's float formatting).
    """
    tables = _lattice_tables(ct, decimals)
    if tables is None:
        return format_values(loops_to_lps(points_ij, slice_k, ct), decimals)
    lattice = {"i": np.rint(2 * points_ij[:, 0]).astype(np.int64) + 1,
               "j": np.rint(2 * points_ij[:, 1]).astype(np.int64) + 1, "k": slice_k}
    out = np.empty(3 * len(points_ij), dtype=object)
    for axis, (source, table) in enumerate(tables):
        out[axis::3] = table[lattice[source]]
    return out.tolist()


def _lattice_tables(ct: CTVolume, decimals: int) -> list[tuple[str, np.ndarray]] | None:
    """Per LPS axis: which index it follows ('i', 'j' or 'k') and the formatted value table."""
    geometry = ct.geometry
    step_i = geometry.direction_matrix[:, 0] * geometry.spacing_mm[0]
    step_j = geometry.direction_matrix[:, 1] * geometry.spacing_mm[1]
    positions = np.array([s.image_position_patient for s in ct.slices], dtype=float)
    tables = []
    for axis in range(3):
        moves_i, moves_j = abs(step_i[axis]) > 1e-9, abs(step_j[axis]) > 1e-9
        fixed_in_k = np.ptp(positions[:, axis]) < 1e-9
        if not moves_i and not moves_j:
            tables.append(("k", np.array(format_values(positions[:, axis], decimals), dtype=object)))
        elif moves_i != moves_j and fixed_in_k:
            source, step, count = ("i", step_i, geometry.shape[2]) if moves_i else ("j", step_j, geometry.shape[1])
            half_steps = (np.arange(2 * count + 1) - 1) / 2.0
            values = positions[0, axis] + half_steps * step[axis]
            tables.append((source, np.array(format_values(values, decimals), dtype=object)))
        else:
            return None  # oblique or sheared: format every value
    return tables


def contour_texts(loop_points_ij: list[np.ndarray], loop_slices: list[int], ct: CTVolume,
                  decimals: int) -> list[PatientContour]:
    """ContourData strings for loops; over-long loops are split first (see module docstring)."""
    pieces: list[tuple[np.ndarray, int]] = []
    budget = MAX_CONTOUR_DATA_BYTES // (3 * (_max_width(ct, decimals) + 1))
    for points, k in zip(loop_points_ij, loop_slices):
        pieces.extend((piece, k) for piece in split_loop(points, budget))
    if not pieces:
        return []
    all_points = np.concatenate([p for p, _ in pieces])
    all_slices = np.repeat([k for _, k in pieces], [len(p) for p, _ in pieces])
    text = format_points(all_points, all_slices, ct, decimals)
    contours, start = [], 0
    for points, k in pieces:
        end = start + 3 * len(points)
        contours.append(PatientContour(k, "\\".join(text[start:end]), len(points)))
        start = end
    return contours


def _max_width(ct: CTVolume, decimals: int) -> int:
    """Upper bound of one formatted coordinate's length on this CT (sign, digits, point, decimals)."""
    corners = np.abs(np.array([s.image_position_patient for s in ct.slices])).max()
    extent = corners + max(ct.geometry.shape) * max(ct.geometry.spacing_mm)
    return len(f"-{extent:.{decimals}f}")


def split_loop(points: np.ndarray, max_points: int) -> list[np.ndarray]:
    """Split a loop into pieces of at most ``max_points`` by clipping at half-integer grid lines."""
    if len(points) <= max_points:
        return [points]
    axis = int(np.ptp(points[:, 1]) > np.ptp(points[:, 0]))
    cut = np.floor(np.median(points[:, axis])) + 0.5  # a voxel boundary: no voxel centre on it
    pieces = []
    for keep_low in (True, False):
        piece = _clip(points, axis, cut, keep_low)
        if len(piece) >= 3:
            pieces.extend(split_loop(piece, max_points))
    return pieces


def _clip(points: np.ndarray, axis: int, cut: float, keep_low: bool) -> np.ndarray:
    """Sutherland–Hodgman clip of a closed loop against one half-plane (parity is preserved)."""
    inside = points[:, axis] <= cut if keep_low else points[:, axis] >= cut
    nxt = np.roll(points, -1, axis=0)
    inside_next = np.roll(inside, -1)
    out: list[np.ndarray] = []
    for p, q, a, b in zip(points, nxt, inside, inside_next):
        if a:
            out.append(p)
        if a != b:
            t = (cut - p[axis]) / (q[axis] - p[axis])
            out.append(p + t * (q - p))
    return np.array(out) if out else np.empty((0, 2))
