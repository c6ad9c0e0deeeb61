"""Masks on the CT grid: the record a mask file becomes, and SimpleITK images placed on the CT's grid.

Shared by the mask-file readers (:mod:`.mask_files`) and the ``.seg.nrrd`` reader (:mod:`.seg_nrrd`),
so neither imports the other for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import SimpleITK as sitk

from .ct.model import ImageGeometry
from .errors import InputError
from .findings import Finding, Severity

#: Origin and spacing differences below this (mm) count as the same grid.
GRID_TOLERANCE_MM = 1e-3


@dataclass(frozen=True)
class MaskInput:
    """One structure read from a file: a cropped boolean block and where it sits on the CT grid."""

    name: str
    mask: np.ndarray
    offset_kji: tuple[int, int, int]
    color: tuple[int, int, int] | None = None
    #: Segment tags of a ``.seg.nrrd`` segment (see :mod:`.segment_tags`); empty for other sources.
    tags: dict[str, str] = field(default_factory=dict)


def reference_image(geometry: ImageGeometry) -> sitk.Image:
    """An empty image with the CT's grid (SimpleITK works in LPS like DICOM)."""
    k, j, i = geometry.shape
    return image_on_grid(sitk.Image([i, j, k], sitk.sitkUInt8), geometry)


def mask_image(mask: np.ndarray, geometry: ImageGeometry) -> sitk.Image:
    """uint8 image (1 inside) on the CT grid: array (k, j, i) becomes image index (i, j, k)."""
    return image_on_grid(sitk.GetImageFromArray(mask.astype(np.uint8)), geometry)


def image_on_grid(image: sitk.Image, geometry: ImageGeometry) -> sitk.Image:
    """``image`` (index (i, j, k) of an array (k, j, i)) given the CT's spacing, origin and direction."""
    image.SetSpacing(tuple(float(s) for s in geometry.spacing_mm))
    image.SetOrigin(tuple(float(o) for o in geometry.origin_lps))
    image.SetDirection(tuple(float(v) for v in geometry.direction_matrix.ravel()))
    return image


def same_grid(image: sitk.Image, geometry: ImageGeometry) -> bool:
    return (tuple(image.GetSize()) == tuple(reversed(geometry.shape))
            and np.allclose(image.GetOrigin(), geometry.origin_lps, atol=GRID_TOLERANCE_MM)
            and np.allclose(image.GetSpacing(), geometry.spacing_mm, atol=GRID_TOLERANCE_MM)
            and np.allclose(image.GetDirection(), geometry.direction_matrix.ravel(), atol=1e-5))


def on_ct_grid(image: sitk.Image, geometry: ImageGeometry, name: str) -> tuple[np.ndarray, list[Finding]]:
    """The image's voxels on the CT grid (k, j, i), resampling and clipping with warnings."""
    if image.GetDimension() != 3 or image.GetNumberOfComponentsPerPixel() != 1:
        raise InputError(f"{name}: expected a 3D single-component image, got {image.GetDimension()}D.",
                         hint="Export one 3D mask per structure or a 3D label image.")
    if same_grid(image, geometry):
        return sitk.GetArrayFromImage(image), []
    findings = [Finding("MASK_RESAMPLED", Severity.WARNING,
                        f"'{name}' is not on the CT grid; resampled to it (nearest neighbour).", roi_name=name,
                        hint="Export masks on the CT grid to avoid resampling.")]
    inside_before = _physical_volume(image)
    resampled = sitk.Resample(image, reference_image(geometry), sitk.Transform(), sitk.sitkNearestNeighbor, 0)
    array = sitk.GetArrayFromImage(resampled)
    voxel_volume = float(np.prod(geometry.spacing_mm))
    inside_after = float(np.count_nonzero(array)) * voxel_volume
    if inside_before > 0 and inside_after < 0.99 * inside_before - voxel_volume:
        findings.append(Finding("MASK_CLIPPED", Severity.WARNING,
                                f"'{name}' extends outside the CT: {100 * (1 - inside_after / inside_before):.1f} % "
                                "of its volume was clipped.", roi_name=name,
                                hint="Check the mask belongs to this CT, or extend the CT."))
    return array, findings


def _physical_volume(image: sitk.Image) -> float:
    return float(np.count_nonzero(sitk.GetArrayViewFromImage(image))) * float(np.prod(image.GetSpacing()))
