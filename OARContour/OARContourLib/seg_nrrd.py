"""Slicer ``.seg.nrrd`` segmentations (with slicerio): read onto the CT grid or natively, and write."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk

from .atomic import write_file
from .ct.model import ImageGeometry
from .errors import InputError
from .findings import Finding
from .mask_block import crop, paste
from .mask_grid import MaskInput, on_ct_grid
from .progress import ProgressCallback, report


def read_seg_nrrd(path: Path, geometry: ImageGeometry) -> tuple[list[MaskInput], list[Finding]]:
    """Every segment of a Slicer segmentation file as a mask on the CT grid.

    Raises
    ------
    InputError
        slicerio is not installed, or the file is not a readable segmentation.
    """
    _, segmentation = _read(path)
    masks, findings = [], []
    for segment in segmentation["segments"]:
        image = _segment_image(segmentation, segment)
        array, found = on_ct_grid(image, geometry, segment["name"])
        block, offset = crop(array != 0)
        masks.append(MaskInput(segment["name"], block, offset, _color(segment), _tags(segment)))
        findings += found
    return masks, findings


def _segment_image(segmentation: dict, segment: dict) -> sitk.Image:
    """One segment as a SimpleITK image with the file's LPS geometry (slicerio arrays are i, j, k)."""
    slicerio = _slicerio("Reading .seg.nrrd")

    mask = np.asarray(slicerio.segment_mask(segmentation, segment), dtype=np.uint8)
    image = sitk.GetImageFromArray(np.ascontiguousarray(mask.transpose(2, 1, 0)))
    ijk_to_lps = np.asarray(segmentation["ijkToLPS"], dtype=float)
    spacing = np.linalg.norm(ijk_to_lps[:3, :3], axis=0)
    image.SetSpacing(spacing.tolist())
    image.SetDirection((ijk_to_lps[:3, :3] / spacing).ravel().tolist())
    image.SetOrigin(ijk_to_lps[:3, 3].tolist())
    return image


@dataclass(frozen=True)
class Segment:
    """One segment to write: a (k, j, i) mask — the full grid, or a block at ``offset_kji`` — its
    name, colour (0–255) and tags."""

    name: str
    mask: np.ndarray
    color: tuple[int, int, int]
    tags: dict[str, str] = field(default_factory=dict)
    segment_id: str = ""
    offset_kji: tuple[int, int, int] = (0, 0, 0)


def write_seg_nrrd(path: Path, segments: list[Segment], ijk_to_lps: np.ndarray,
                   shape_kji: tuple[int, int, int] | None = None, header: Mapping[str, str] | None = None,
                   progress: ProgressCallback | None = None) -> None:
    """A Slicer segmentation file (overlapping segments go to separate layers), written atomically.

    ``shape_kji`` is the grid (default: the first segment's mask, which must then be full-grid);
    ``header`` adds custom fields to the file header (e.g. provenance).

    Raises
    ------
    InputError
        slicerio (and its pynrrd dependency) is not installed.
    """
    slicerio = _slicerio("Writing .seg.nrrd")
    shape = shape_kji or (tuple(segments[0].mask.shape) if segments else (1, 1, 1))
    segmentation = slicerio.create_segmentation(tuple(reversed(shape)), np.asarray(ijk_to_lps))
    segmentation["containedRepresentationNames"] = ["Binary labelmap"]
    segmentation.update(header or {})
    for index, segment in enumerate(segments, start=1):
        report(progress, (index - 1) / max(len(segments), 1), f"Adding {segment.name}")
        # One full-grid mask at a time (blocks keep 100+ structures small); slicerio indexes (i, j, k).
        mask = paste(segment.mask, segment.offset_kji, shape).transpose(2, 1, 0)
        slicerio.add_segment(segmentation, mask, {
            "id": segment.segment_id or f"Segment_{index}", "name": segment.name,
            "color": [c / 255.0 for c in segment.color], "tags": dict(segment.tags)})
    write_file(path, lambda temporary: slicerio.write_segmentation(str(temporary), segmentation), ".seg.nrrd")
    report(progress, 1.0, "Segmentation written")


def read_seg_nrrd_native(path: Path) -> tuple[list[Segment], np.ndarray]:
    """Every segment on the file's own grid (no CT needed) and the file's IJK→LPS matrix."""
    slicerio, segmentation = _read(path)
    segments = []
    for raw in segmentation["segments"]:
        mask = np.asarray(slicerio.segment_mask(segmentation, raw), dtype=bool).transpose(2, 1, 0)
        segments.append(Segment(raw["name"], np.ascontiguousarray(mask), _color(raw), _tags(raw)))
    return segments, np.asarray(segmentation["ijkToLPS"], dtype=float)


def _read(path: Path) -> tuple[Any, dict[str, Any]]:
    """slicerio and the file's segmentation; InputError when the file is not one."""
    slicerio = _slicerio("Reading .seg.nrrd")
    try:
        return slicerio, slicerio.read_segmentation(str(path))
    except Exception as exc:  # slicerio raises plain exceptions for malformed headers
        raise InputError(f"Cannot read {path.name} as a Slicer segmentation: {exc}",
                         hint="Save it again from Slicer's Segmentations module.") from exc


def _color(segment: dict[str, Any]) -> tuple[int, int, int]:
    red, green, blue = (int(round(255 * c)) for c in segment.get("color", (1.0, 0.0, 0.0))[:3])
    return red, green, blue


def _tags(segment: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (segment.get("tags") or {}).items()}


def _slicerio(action: str) -> Any:
    try:
        import slicerio
    except ImportError as exc:
        raise InputError(f"{action} needs the slicerio package.",
                         hint="pip install 'oarcontour[seg]' (slicerio), or use NIfTI masks.") from exc
    return slicerio
