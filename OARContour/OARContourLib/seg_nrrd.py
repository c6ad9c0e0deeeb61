"""Read a Slicer ``.seg.nrrd`` segmentation (with slicerio) onto the CT grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk

from .ct.model import ImageGeometry
from .errors import InputError
from .findings import Finding
from .mask_block import crop
from .mask_files import MaskInput, on_ct_grid


def read_seg_nrrd(path: Path, geometry: ImageGeometry) -> tuple[list[MaskInput], list[Finding]]:
    """Every segment of a Slicer segmentation file as a mask on the CT grid.

    Raises
    ------
    InputError
        slicerio is not installed, or the file is not a readable segmentation.
    """
    try:
        import slicerio
    except ImportError as exc:
        raise InputError("Reading .seg.nrrd needs the slicerio package.",
                         hint="pip install slicerio (or export the segments as NIfTI masks).") from exc
    try:
        segmentation = slicerio.read_segmentation(str(path))
    except Exception as exc:  # slicerio raises plain exceptions for malformed headers
        raise InputError(f"Cannot read {path.name} as a Slicer segmentation: {exc}",
                         hint="Save it again from Slicer's Segmentations module.") from exc
    masks, findings = [], []
    for segment in segmentation["segments"]:
        image = _segment_image(segmentation, segment)
        array, found = on_ct_grid(image, geometry, segment["name"])
        block, offset = crop(array != 0)
        color = tuple(int(round(255 * c)) for c in segment.get("color", (1.0, 0.0, 0.0))[:3])
        masks.append(MaskInput(segment["name"], block, offset, color))  # type: ignore[arg-type]
        findings += found
    return masks, findings


def _segment_image(segmentation: dict, segment: dict) -> sitk.Image:
    """One segment as a SimpleITK image with the file's LPS geometry (slicerio arrays are i, j, k)."""
    import slicerio

    mask = np.asarray(slicerio.segment_mask(segmentation, segment), dtype=np.uint8)
    image = sitk.GetImageFromArray(np.ascontiguousarray(mask.transpose(2, 1, 0)))
    ijk_to_lps = np.asarray(segmentation["ijkToLPS"], dtype=float)
    spacing = np.linalg.norm(ijk_to_lps[:3, :3], axis=0)
    image.SetSpacing(spacing.tolist())
    image.SetDirection((ijk_to_lps[:3, :3] / spacing).ravel().tolist())
    image.SetOrigin(ijk_to_lps[:3, 3].tolist())
    return image
