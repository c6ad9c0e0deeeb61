"""The anatomical CT phantom: OARContour's embedded test and demo data (no Slicer needed).

Anatomy is defined analytically in patient LPS millimetres and voxelised through the scan geometry,
so it is anatomically correct for every patient position. :func:`build_phantom` returns arrays in
memory; :func:`write_phantom` writes a DICOM CT series and one NIfTI ground-truth mask per structure.
"""

from __future__ import annotations

from .build import build_phantom
from .model import PatientPosition, PhantomResult, PhantomVariant, PhantomVolume
from .write import write_phantom

__all__ = [
    "PatientPosition",
    "PhantomResult",
    "PhantomVariant",
    "PhantomVolume",
    "build_phantom",
    "write_phantom",
]
