"""The steps behind OARContourLogic's workflow methods: auto-segment, export, derive, rename.

The CT of a volume node is re-read from its DICOM files (:func:`ct_volume_of`) rather than rebuilt
from the node: the RTSTRUCT must reference exactly the files on disk (UIDs, positions, SOP
classes), and ``load_ct`` is the one place that reads them. The node's own voxels are only used to
check that the files still describe the node's grid, and then stand in for the pixel data (the node
was loaded from these files), which is not decoded a second time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import slicer.util
import vtk

from ..atomic import write_json
from ..ct.load import load_ct
from ..ct.model import LPS_TO_RAS, CTVolume
from ..errors import InputError
from ..mask_block import MaskBlock
from ..naming.resolve import suggest
from ..rtstruct.model import ExportEngine, GenerationAlgorithm, Structure, full_mask
from ..rtstruct.verify import VerificationReport, verify_rtstruct
from ..rtstruct.write import ExportReport
from . import dicom_files, volume_nodes


@dataclass(frozen=True)
class ExportResult:
    """What :meth:`OARContourLogic.exportRTSTRUCT` wrote and what verifying it found.

    ``ct_copy_dir`` is the CT series SlicerRT wrote, copied beside the RTSTRUCT when the file was
    not re-referenced to the original CT (send both to the planning system); None otherwise.
    """

    path: Path
    export: ExportReport
    verification: VerificationReport
    verification_path: Path
    engine: str = ExportEngine.BUILTIN.value
    ct_copy_dir: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "verification_path": str(self.verification_path), "engine": self.engine,
                "ct_copy_dir": str(self.ct_copy_dir) if self.ct_copy_dir else None,
                "export": self.export.to_dict(), "verification": self.verification.to_dict()}


@dataclass(frozen=True)
class Rename:
    """One segment's naming decision by :meth:`OARContourLogic.applyNaming`."""

    segment_id: str
    old_name: str
    new_name: str
    confidence: float
    applied: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"segment_id": self.segment_id, "old_name": self.old_name, "new_name": self.new_name,
                "confidence": round(self.confidence, 3), "applied": self.applied, "reason": self.reason}


def ct_volume_of(ct_node: Any, series_uid: str, file_lookup: dicom_files.FileLookup | None = None) -> CTVolume:
    """Re-read the node's DICOM series with ``load_ct``.

    The files are those OARContour's loader stored, or, for a CT loaded through Slicer's DICOM
    browser, its ``DICOM.instanceUIDs`` found through ``file_lookup`` (default: Slicer's DICOM
    database); see :func:`.dicom_files.series_files`.

    Raises
    ------
    InputError
        The node's files cannot be found or are gone, or they no longer form the node's grid.
    """
    files = dicom_files.series_files(ct_node, file_lookup)
    folder = Path(os.path.commonpath([str(p.parent) for p in files]))
    volume = load_ct(folder, series_uid=series_uid or None, voxels=slicer.util.arrayFromVolume(ct_node))
    loaded_uids = {s.sop_instance_uid for s in volume.slices}
    node_uids = set(volume_nodes.instance_uids(ct_node)) - {dicom_files.UNKNOWN_UID}
    if volume.hu.shape != slicer.util.arrayFromVolume(ct_node).shape or not node_uids <= loaded_uids:
        raise InputError(f"The files of CT '{ct_node.GetName()}' no longer match the loaded volume.",
                         hint="Reload the CT series and segment it again.")
    return volume


def grid_of(ct_node: Any) -> tuple[tuple[int, int, int], tuple[float, float, float]]:
    """Array shape (k, j, i) and spacing in mm (k, j, i) of a volume node."""
    shape = tuple(int(n) for n in slicer.util.arrayFromVolume(ct_node).shape)
    i, j, k = ct_node.GetSpacing()
    return shape, (float(k), float(j), float(i))  # type: ignore[return-value]


def ijk_to_lps_of(ct_node: Any) -> np.ndarray:
    """The volume's 4×4 IJK→LPS matrix (directional margins need the patient directions)."""
    ijk_to_ras = vtk.vtkMatrix4x4()
    ct_node.GetIJKToRASMatrix(ijk_to_ras)
    return np.asarray(LPS_TO_RAS @ slicer.util.arrayFromVTKMatrix(ijk_to_ras))


def source_masks(structures: Sequence[Structure]) -> dict[str, MaskBlock]:
    """Name → the structure's block, for the verifier's round-trip check (no full-grid copy each)."""
    return {s.name: MaskBlock(np.asarray(s.mask, dtype=bool), s.offset_kji) for s in structures}


class FullMasks(Mapping[str, np.ndarray]):
    """Name → full-grid mask of a structure, made only when asked for (a recipe reads one or two)."""

    def __init__(self, structures: Sequence[Structure], shape_kji: tuple[int, ...]) -> None:
        self._structures = {s.name: s for s in structures}
        self._shape = shape_kji

    def __getitem__(self, name: str) -> np.ndarray:
        return full_mask(self._structures[name], self._shape)

    def __iter__(self) -> Iterator[str]:
        return iter(self._structures)

    def __len__(self) -> int:
        return len(self._structures)


def write_verification(report: VerificationReport, rtstruct_path: Path) -> Path:
    """Save the report as JSON beside the RTSTRUCT (``<file>.verify.json``)."""
    target = rtstruct_path.with_name(rtstruct_path.name + ".verify.json")
    write_json(target, report.to_dict())
    return target


def verified_export(target: Path, export: ExportReport, reference_ct: CTVolume, structures: Sequence[Structure],
                    tps: str, **details: Any) -> ExportResult:
    """Verify a written RTSTRUCT against its CT and the segments it came from; save the report beside it."""
    masks = source_masks(structures)
    verification = verify_rtstruct(target, reference_ct, tps=tps, source_masks=masks)
    return ExportResult(target, export, verification, write_verification(verification, target), **details)


def derived_structures(result: Any) -> list[tuple[Structure, np.ndarray]]:
    """The derived masks of a :class:`DerivedResult` as (structure, full mask) pairs."""
    pairs = []
    for derived in result.names:
        mask = result.masks[derived.name]
        structure = Structure(name=derived.name, mask=np.zeros((0, 0, 0), bool), color=tuple(derived.color),
                              roi_type=derived.roi_type, algorithm=GenerationAlgorithm.SEMIAUTOMATIC,
                              description="Derived by OARContour")
        pairs.append((structure, mask))
    return pairs


def naming_decision(segment_id: str, name: str, overrides: Any, min_confidence: float) -> Rename:
    """Whether to rename one segment: the best suggestion at or above ``min_confidence``."""
    found = suggest(name, overrides=overrides, limit=1)
    if not found:
        return Rename(segment_id, name, name, 0.0, False, "no TG-263 name found")
    best = found[0]
    if best.name == name:
        return Rename(segment_id, name, name, best.confidence, False, "already a TG-263 name")
    if best.confidence < min_confidence:
        return Rename(segment_id, name, best.name, best.confidence, False,
                      f"{best.reason}; confidence below {min_confidence:.2f}, left for review")
    return Rename(segment_id, name, best.name, best.confidence, True, best.reason)
