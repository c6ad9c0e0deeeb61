"""RTSTRUCTs of the phantom's true masks, written by our own writer (table colours and ROI types)."""

from __future__ import annotations

from pathlib import Path

import SimpleITK as sitk
from OARContourLib.ct.load import load_ct
from OARContourLib.naming.tables import load_tables
from OARContourLib.phantom import PhantomResult, write_phantom
from OARContourLib.rtstruct.model import Structure
from OARContourLib.rtstruct.write import write_rtstruct

#: The geometry of the session fixture ``small_phantom`` (Testing/conftest.py), for other patient positions.
SMALL_PHANTOM = dict(rows=64, columns=64, slices=16, pixel_spacing_mm=8.0, slice_spacing_mm=10.0)


def small_phantom_at(folder: Path, patient_position: str) -> PhantomResult:
    return write_phantom(folder, seed=7, patient_position=patient_position, **SMALL_PHANTOM)  # type: ignore[arg-type]


def write_phantom_rtstruct(phantom: PhantomResult, path: Path, rename: dict[str, str] | None = None) -> Path:
    """``path``: every true mask as an ROI (``rename`` maps phantom names to the names written)."""
    tables = load_tables()
    structures = []
    for name, truth in phantom.truth_files.items():
        mask = sitk.GetArrayFromImage(sitk.ReadImage(str(truth))).astype(bool)
        default = tables.default_for(name)
        assert default is not None, f"the naming tables lost the phantom structure {name}"
        structures.append(Structure((rename or {}).get(name, name), mask, color=default.color,
                                    roi_type=default.roi_type))
    write_rtstruct(path, load_ct(phantom.ct_dir), structures)
    return path
