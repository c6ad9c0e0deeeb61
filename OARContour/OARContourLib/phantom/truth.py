"""Write the ground-truth masks as compressed NIfTI, one ``<Name>.nii.gz`` per structure.

SimpleITK carries the CT's LPS geometry (origin, spacing, direction) and converts it to the RAS
convention of NIfTI itself, so reading a mask back with SimpleITK gives the CT's physical space.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..mask_files import write_image
from ..mask_grid import mask_image
from ..progress import ProgressCallback, report
from .model import PhantomVolume

logger = logging.getLogger(__name__)


def write_truth(volume: PhantomVolume, folder: Path, progress: ProgressCallback | None = None) -> dict[str, Path]:
    """Write every mask of ``volume`` into ``folder`` (which must exist); returns name -> path."""
    written: dict[str, Path] = {}
    for index, (name, mask) in enumerate(volume.masks.items()):
        report(progress, index / len(volume.masks), f"Writing mask {name}")
        path = folder / f"{name}.nii.gz"
        write_image(mask_image(mask, volume.geometry), path)
        written[name] = path
    report(progress, 1.0, f"Wrote {len(written)} masks")
    return written
