"""Edited copies of real RTSTRUCTs for comparison tests: moved contours, renamed ROIs, another Frame of Reference.

The copy is written beside nothing: the source file is read and never modified.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pydicom
from OARContourLib.dicom_compat import save_dataset


def edited_copy(source: Path, target: Path, *, shift_lps_mm: tuple[float, float, float] = (0.0, 0.0, 0.0),
                rename: Mapping[str, str] | None = None, frame_of_reference_uid: str | None = None) -> Path:
    """Write ``source`` to ``target`` with every ContourData point moved, ROIs renamed or the FoR replaced."""
    ds = pydicom.dcmread(source, force=True)
    for roi_contour in ds.get("ROIContourSequence", []):
        for contour in roi_contour.get("ContourSequence", []):
            points = [float(v) for v in contour.ContourData]
            contour.ContourData = [format(v + shift_lps_mm[n % 3], ".10g") for n, v in enumerate(points)]
    for roi in ds.get("StructureSetROISequence", []):
        if rename and roi.ROIName in rename:
            roi.ROIName = rename[roi.ROIName]
        if frame_of_reference_uid is not None:
            roi.ReferencedFrameOfReferenceUID = frame_of_reference_uid
    if frame_of_reference_uid is not None:
        for item in ds.get("ReferencedFrameOfReferenceSequence", []):
            item.FrameOfReferenceUID = frame_of_reference_uid
    save_dataset(ds, target, enforce_file_format=False)
    return target
