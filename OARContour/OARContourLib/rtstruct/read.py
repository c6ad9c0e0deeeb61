"""Read an RTSTRUCT onto a CT grid: one boolean mask per ROI plus every problem met on the way.

The file is parsed by :mod:`.parse`, contours are put on CT slices by :mod:`.placement` and filled
by the even-odd rasteriser (:mod:`.rasterize`), which XORs all contours of a slice, so nested
contours and keyhole cuts both give holes. Strict about nothing but the file type: a Frame of
Reference that differs from the CT's is an error finding, and the masks are still returned.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..ct.model import CTVolume
from ..finding_codes import FindingCode
from ..findings import Finding, Severity, has_errors
from ..mask_block import paste
from ..progress import ProgressCallback, report
from .parse import ParsedStructureSet, ReadCode, RoiDefinition, finding, parse_rtstruct
from .placement import SliceFrame, place_contours
from .rasterize import rasterize_packed_block

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoiMasks:
    """One ROI of a structure set, rasterised on the CT grid.

    Attributes
    ----------
    number : int
        ROI Number (3006,0022).
    name : str
        ROI Name as written (``"ROI <number>"`` when empty).
    color : tuple of int or None
        ROI Display Color (r, g, b) 0-255; None when absent or invalid.
    roi_type : str
        RT ROI Interpreted Type (``"ORGAN"``, ``"EXTERNAL"``, ...); ``""`` when empty.
    generation_algorithm : str
        ROI Generation Algorithm; ``""`` when absent.
    block : numpy.ndarray
        ``(k, j, i)`` bool: the part of the CT grid the contours reach (see :attr:`mask`).
    offset_kji : tuple of int
        Where ``block`` starts on the CT grid.
    shape_kji : tuple of int
        The CT grid's shape.
    contour_count : int
        Closed planar contours rasterised onto this CT.
    findings : tuple of Finding
        Problems of this ROI (also listed in :attr:`StructureSetContents.findings`).
    skipped_contour_count : int
        Closed planar contours not placed on this CT (off its slices, outside it, not planar).
    """

    number: int
    name: str
    color: tuple[int, int, int] | None
    roi_type: str
    generation_algorithm: str
    block: np.ndarray
    offset_kji: tuple[int, int, int]
    shape_kji: tuple[int, int, int]
    contour_count: int
    findings: tuple[Finding, ...] = ()
    skipped_contour_count: int = 0

    @property
    def mask(self) -> np.ndarray:
        """``(k, j, i)`` bool on the whole CT grid (a new array at each call; memory only for the block's pages)."""
        return paste(self.block, self.offset_kji, self.shape_kji)

    @property
    def voxel_count(self) -> int:
        return int(np.count_nonzero(self.block))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the mask)."""
        return {"number": self.number, "name": self.name, "color": list(self.color) if self.color else None,
                "roi_type": self.roi_type, "generation_algorithm": self.generation_algorithm,
                "contour_count": self.contour_count, "skipped_contour_count": self.skipped_contour_count,
                "voxels": self.voxel_count, "findings": [f.to_dict() for f in self.findings]}


@dataclass(frozen=True)
class StructureSetContents:
    """What :func:`read_rtstruct` returns.

    ``findings`` lists every finding: those of the structure set as a whole (references, DICOM
    values) followed by those of each ROI in ROI order.
    """

    rois: tuple[RoiMasks, ...]
    label: str
    sop_instance_uid: str
    frame_of_reference_uid: str
    referenced_series_uid: str
    findings: tuple[Finding, ...]
    path: str = ""
    seconds: float = 0.0

    @property
    def has_errors(self) -> bool:
        return has_errors(self.findings)

    def roi(self, name: str) -> RoiMasks:
        """The first ROI called ``name`` (exact match); KeyError if none."""
        for roi in self.rois:
            if roi.name == name:
                return roi
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "label": self.label, "sop_instance_uid": self.sop_instance_uid,
                "frame_of_reference_uid": self.frame_of_reference_uid,
                "referenced_series_uid": self.referenced_series_uid, "rois": [r.to_dict() for r in self.rois],
                "findings": [f.to_dict() for f in self.findings], "seconds": round(self.seconds, 3)}


def read_rtstruct(path: str | Path, ct: CTVolume, progress: ProgressCallback | None = None) -> StructureSetContents:
    """Rasterise every ROI of an RTSTRUCT on the grid of ``ct``.

    Parameters
    ----------
    path
        The RTSTRUCT file.
    ct
        The CT it was drawn on (see :func:`OARContourLib.ct.load.load_ct`); partial series work,
        contours on absent slices are reported and skipped.
    progress
        Optional ``progress(fraction, message) -> cancel`` callback.

    Returns
    -------
    StructureSetContents
        Masks per ROI (in StructureSetROISequence order) and findings: warnings for vendor quirks
        and skipped contours, an error when the Frame of Reference differs from the CT's.

    Raises
    ------
    InputError
        The file is missing, unreadable or not an RTSTRUCT.
    CancelledError
        ``progress`` asked to stop.
    """
    started = time.perf_counter()
    parsed = parse_rtstruct(path)
    set_findings = list(parsed.findings) + reference_findings(parsed, ct)
    frame = SliceFrame.from_ct(ct)
    rois = []
    for index, definition in enumerate(parsed.rois):
        report(progress, index / max(len(parsed.rois), 1), f"Rasterising {definition.name}")
        rois.append(_roi_masks(definition, frame, ct, _frame_of_reference(parsed)))
    findings = tuple(set_findings) + tuple(f for roi in rois for f in roi.findings)
    seconds = time.perf_counter() - started
    report(progress, 1.0, f"Read {len(rois)} ROIs")
    logger.info("Read %d ROIs from %s in %.2f s (%d findings)", len(rois), Path(path).name, seconds, len(findings))
    return StructureSetContents(tuple(rois), parsed.label, parsed.sop_instance_uid, _frame_of_reference(parsed),
                                parsed.referenced_series_uids[0] if parsed.referenced_series_uids else "",
                                findings, str(path), seconds)


def _roi_masks(definition: RoiDefinition, frame: SliceFrame, ct: CTVolume, set_frame_uid: str) -> RoiMasks:
    placed = place_contours(definition.contours, frame, definition.name)
    block, offset = rasterize_packed_block(placed.points_ij, placed.offsets, placed.slice_k, frame.shape)
    findings = list(definition.findings) + _roi_frame_findings(definition, ct, set_frame_uid) + list(placed.findings)
    if definition.contours and placed.count and not block.any():
        findings.append(FindingCode.EMPTY_ROI.read_finding(
            f"ROI '{definition.name}': its {placed.count} contour(s) enclose no voxel centre of the CT.",
            definition.name, hint="The structure is smaller than a voxel or lies between voxel centres."))
    return RoiMasks(definition.number, definition.name, definition.color, definition.roi_type,
                    definition.generation_algorithm, block, offset, frame.shape,
                    placed.count, tuple(findings), placed.skipped)


def _frame_of_reference(parsed: ParsedStructureSet) -> str:
    if parsed.frame_of_reference_uids:
        return parsed.frame_of_reference_uids[0]
    return next((roi.frame_of_reference_uid for roi in parsed.rois if roi.frame_of_reference_uid), "")


def reference_findings(parsed: ParsedStructureSet, ct: CTVolume) -> list[Finding]:
    """Frame of Reference and referenced series of the structure set against ``ct``."""
    found = _frame_findings(parsed, ct.reference.frame_of_reference_uid)
    series = parsed.referenced_series_uids
    ct_series = ct.reference.series_instance_uid
    if not series:
        found.append(finding(ReadCode.MISSING_REFERENCED_SERIES, "The structure set names no referenced image series "
                             "(RT Referenced Series Sequence).", hint="Make sure the CT is the one it was drawn on."))
    elif ct_series and ct_series not in series:
        found.append(finding(ReadCode.REFERENCED_SERIES_MISMATCH, f"The structure set references series "
                             f"{', '.join(series)}, not the CT series {ct_series}.",
                             hint="Contours are placed by position; check this is the CT they were drawn on."))
    return found


def _frame_findings(parsed: ParsedStructureSet, ct_frame: str) -> list[Finding]:
    frames = parsed.frame_of_reference_uids or tuple(dict.fromkeys(r.frame_of_reference_uid for r in parsed.rois
                                                                    if r.frame_of_reference_uid))
    if not frames:
        return [finding(ReadCode.MISSING_FRAME_OF_REFERENCE, "The structure set has no Frame of Reference UID.",
                        hint="Contours are placed by position; make sure the CT is the one they were drawn on.")]
    if not ct_frame:
        return [finding(ReadCode.MISSING_FRAME_OF_REFERENCE, "The CT has no Frame of Reference UID, so the "
                        "structure set's cannot be checked.", hint="Use the original CT series.")]
    if ct_frame not in frames:
        return [finding(ReadCode.FRAME_OF_REFERENCE_MISMATCH, f"The structure set's Frame of Reference "
                        f"{', '.join(frames)} is not the CT's ({ct_frame}).", severity=Severity.ERROR,
                        hint="The contours may belong to another scan; load the CT they were drawn on.")]
    return []


def _roi_frame_findings(definition: RoiDefinition, ct: CTVolume, set_frame_uid: str) -> list[Finding]:
    """An ROI whose own Referenced Frame of Reference differs from both the set's and the CT's."""
    roi_frame = definition.frame_of_reference_uid
    ct_frame = ct.reference.frame_of_reference_uid
    if not roi_frame or not ct_frame or roi_frame in (ct_frame, set_frame_uid):
        return []
    return [finding(ReadCode.FRAME_OF_REFERENCE_MISMATCH, f"ROI '{definition.name}' refers to Frame of Reference "
                    f"{roi_frame}, not the CT's ({ct_frame}).", roi_name=definition.name, severity=Severity.ERROR,
                    hint="The ROI may belong to another scan; check it before use.")]
