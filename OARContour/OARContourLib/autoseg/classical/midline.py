"""The patient's mid-sagittal plane, estimated from anatomy, and which side of it a structure lies on.

Patient left is +x in LPS, read from each image's own direction cosines (which already encode
head-first/feet-first and supine/prone), never from array order. The plane's x per slice comes
from the spinal canal (the lumen of the vertebral ring, the most reliable midline landmark), else
from the body's centre, which is biased when the body is cut by the image border; that estimate is
marked unreliable.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ...ct.model import ImageGeometry
from .orientation import slice_z_mm

#: Slices with a landmark needed before the landmark defines the midline.
MIN_LANDMARK_SLICES = 2


class Side(str, enum.Enum):
    """A side of the patient (the suffix TG-263 lateral names carry)."""

    LEFT = "L"
    RIGHT = "R"

    @property
    def opposite(self) -> Side:
        return Side.RIGHT if self is Side.LEFT else Side.LEFT

    @property
    def word(self) -> str:
        return "left" if self is Side.LEFT else "right"


class MidlineSource(str, enum.Enum):
    SPINAL_CANAL = "spinal canal"
    BODY_CENTRE = "body centre"


@dataclass(frozen=True)
class Midline:
    """LPS x (mm) of the mid-sagittal plane on every slice, and what it was estimated from.

    ``cut_sides`` are the patient sides on which the body touches the image border (cropped field
    of view); ``reliable`` is False when the plane comes from the centre of such a cut body.
    """

    x_mm: np.ndarray
    source: MidlineSource
    cut_sides: frozenset[Side]

    @property
    def reliable(self) -> bool:
        return self.source is not MidlineSource.BODY_CENTRE or not self.cut_sides

    def to_dict(self) -> dict[str, object]:
        return {"source": self.source.value, "cut_sides": sorted(s.value for s in self.cut_sides),
                "x_mm_median": round(float(np.median(self.x_mm)), 2)}


def voxel_x_mm(geometry: ImageGeometry, k: np.ndarray, j: np.ndarray, i: np.ndarray) -> np.ndarray:
    """LPS x of voxels given by index arrays (the x row of ijk → LPS, without building (n, 3) arrays)."""
    row = geometry.ijk_to_lps()[0]
    return row[0] * i + row[1] * j + row[2] * k + row[3]


def lateral_offsets_mm(mask: np.ndarray, geometry: ImageGeometry, midline: Midline) -> np.ndarray:
    """Signed distance (mm, + toward patient left) of every voxel of ``mask`` from the plane."""
    k, j, i = np.nonzero(mask)
    return voxel_x_mm(geometry, k, j, i) - midline.x_mm[k]


def side_of(mask: np.ndarray, geometry: ImageGeometry, midline: Midline) -> Side | None:
    """The side holding most of ``mask`` (None for an empty mask)."""
    offsets = lateral_offsets_mm(mask, geometry, midline)
    if offsets.size == 0:
        return None
    return Side.LEFT if np.count_nonzero(offsets > 0) * 2 >= offsets.size else Side.RIGHT


def estimate_midline(body: np.ndarray, geometry: ImageGeometry, canal: np.ndarray | None = None) -> Midline:
    """The mid-sagittal plane from the spinal canal (the lumen of the vertebral ring), else the body centre."""
    cut = cut_sides(body, geometry)
    if canal is not None and np.count_nonzero(canal.any(axis=(1, 2))) >= MIN_LANDMARK_SLICES:
        return Midline(_interpolated(canal, geometry), MidlineSource.SPINAL_CANAL, cut)
    return Midline(_interpolated(body, geometry), MidlineSource.BODY_CENTRE, cut)


def _interpolated(landmark: np.ndarray, geometry: ImageGeometry) -> np.ndarray:
    """Per-slice centroid x of ``landmark``, median-smoothed, interpolated along z to every slice."""
    k, j, i = np.nonzero(landmark)
    counts = np.bincount(k, minlength=landmark.shape[0]).astype(float)
    present = np.flatnonzero(counts)
    if present.size == 0:
        return np.zeros(landmark.shape[0])
    x_sum = np.bincount(k, weights=voxel_x_mm(geometry, k, j, i), minlength=landmark.shape[0])
    x = x_sum[present] / counts[present]
    if x.size >= 5:
        x = ndimage.median_filter(x, size=5, mode="nearest")
    z = slice_z_mm(geometry)[present]
    order = np.argsort(z)
    return np.interp(slice_z_mm(geometry), z[order], x[order])


def cut_sides(body: np.ndarray, geometry: ImageGeometry) -> frozenset[Side]:
    """Patient sides on which the body reaches the image border (the field of view cuts the patient)."""
    sides = set()
    x_axis = int(np.argmax(np.abs(geometry.direction_matrix[0, :2])))  # 0: columns (i), 1: rows (j)
    sign = np.sign(geometry.direction_matrix[0, x_axis])
    edges = (body[:, :, 0], body[:, :, -1]) if x_axis == 0 else (body[:, 0, :], body[:, -1, :])
    for index, edge in enumerate(edges):
        # A few touching voxels are skin folds or arms; a cut trunk touches along a long edge.
        if np.count_nonzero(edge) > 0.02 * edge.size:
            low_end_is_left = sign < 0
            sides.add(Side.LEFT if (index == 0) == low_end_is_left else Side.RIGHT)
    return frozenset(sides)
