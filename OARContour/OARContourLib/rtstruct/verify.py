"""Verify an RTSTRUCT against the CT it belongs to and a planning-system profile.

Every rule in :data:`.rules.RULES` runs on the file as it is encoded (lengths of the stored values,
not of re-formatted numbers) and reports :class:`~OARContourLib.findings.Finding`\\ s with a stable
code. Errors are what a planning system rejects or misreads, or what DICOM forbids; warnings are
legal but risky. Contour-level findings are grouped per ROI (see :mod:`.rules.base`).

Verification is tolerant on read: any RTSTRUCT that pydicom can parse is checked, whatever its
producer; only inputs that are not an RTSTRUCT at all raise.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom import config
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from ..ct.model import CTVolume
from ..errors import InputError
from ..findings import Finding, Severity
from ..mask_block import MaskBlock, fits
from .completeness import truncation_problem
from .dataset import RT_STRUCTURE_SET_STORAGE
from .profiles import load_profile
from .rules import RULES, VerificationContext
from .rules.fidelity import dice_scores

logger = logging.getLogger(__name__)

#: Finding of a file cut off before its end (not one of the rules: it is about the file, not its content).
FILE_TRUNCATED = "FILE_TRUNCATED"

SCHEMA = "oarcontour.verify/1"


@dataclass(frozen=True)
class VerificationReport:
    """Findings of one verification, and what was checked.

    ``dice`` maps ROI names to the round-trip Dice against ``source_masks`` (empty without them).
    """

    findings: tuple[Finding, ...]
    rois_checked: int
    profile: str
    source: str = ""
    contours_checked: int = 0
    rules: tuple[str, ...] = ()
    dice: Mapping[str, float] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)

    def of_severity(self, severity: Severity) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is severity)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "source": self.source,
            "profile": self.profile,
            "rois_checked": self.rois_checked,
            "contours_checked": self.contours_checked,
            "has_errors": self.has_errors,
            "counts": {s.value: len(self.of_severity(s)) for s in Severity},
            "findings": [f.to_dict() for f in self.findings],
            "dice": {name: round(score, 6) for name, score in self.dice.items()},
            "rules": list(self.rules),
        }


def verify_rtstruct(path_or_dataset: str | Path | Dataset, ct: CTVolume, tps: str = "generic",
                    source_masks: Mapping[str, np.ndarray | MaskBlock] | None = None) -> VerificationReport:
    """Check an RTSTRUCT against ``ct`` and the ``tps`` profile.

    Parameters
    ----------
    path_or_dataset
        RTSTRUCT file, or a pydicom dataset (e.g. from :func:`.write.build_rtstruct`); never modified.
    ct
        The CT series the structure set should reference (:func:`OARContourLib.ct.load.load_ct`).
    tps
        Planning-system profile id (``generic``, ``eclipse``, ``raystation``, ...).
    source_masks
        Optional ROI name -> ``(K, J, I)`` bool mask on the CT grid, or a
        :class:`~OARContourLib.mask_block.MaskBlock` of it (no full-grid copy per structure);
        enables the round-trip check.

    Returns
    -------
    VerificationReport
        Every finding (errors and warnings), grouped per rule and ROI.

    Raises
    ------
    InputError
        Unknown profile; the file is missing, unreadable or not an RTSTRUCT; a source mask is not on
        the CT grid.
    """
    started = time.perf_counter()
    profile = load_profile(tps)
    _check_masks(source_masks, ct)
    findings: list[Finding] = []
    # The rules report over-long or malformed values themselves; pydicom's warnings would repeat them.
    with config.disable_value_validation():
        dataset, source = _read(path_or_dataset)
        findings += _truncation(source)
        context = VerificationContext(dataset, ct, profile, source_masks)
        for rule in RULES:
            findings.extend(rule().check(context))
        report = VerificationReport(tuple(findings), len(context.rois), profile.id, source, len(context.contours),
                                    tuple(rule.code for rule in RULES), dice_scores(context))
    logger.info("Verified %s (%d ROIs, %d contours) for %s: %d errors, %d warnings in %.2f s",
                Path(source).name or source, report.rois_checked, report.contours_checked, profile.id,
                len(report.of_severity(Severity.ERROR)), len(report.of_severity(Severity.WARNING)),
                time.perf_counter() - started)
    return report


def _read(path_or_dataset: str | Path | Dataset) -> tuple[Dataset, str]:
    if isinstance(path_or_dataset, Dataset):
        _check_is_rtstruct(path_or_dataset, "the dataset")
        return path_or_dataset, ""
    path = Path(path_or_dataset).expanduser()
    if not path.is_file():
        raise InputError(f"RTSTRUCT file not found: {path}", hint="Give the path of an RTSTRUCT .dcm file.")
    try:
        dataset = pydicom.dcmread(path)
    except (InvalidDicomError, OSError, EOFError, ValueError, TypeError) as exc:
        raise InputError(f"{path.name} cannot be read as DICOM ({type(exc).__name__}: {exc}).",
                         hint="Give an RTSTRUCT file exported by a planning system or OARContour.") from exc
    _check_is_rtstruct(dataset, path.name)
    return dataset, str(path)


def _truncation(source: str) -> list[Finding]:
    """A file cut off reads as a smaller, complete-looking one: say so before any other finding."""
    cut = truncation_problem(Path(source)) if source else None
    if not cut:
        return []
    return [Finding(FILE_TRUNCATED, Severity.ERROR, f"{Path(source).name} is truncated: {cut}; the ROIs and contours "
                    "after the cut are missing from every check below.", hint="Copy or export the structure set again.")]


def _check_is_rtstruct(dataset: Dataset, name: str) -> None:
    meta = getattr(dataset, "file_meta", None)
    classes = {str(dataset.get("SOPClassUID", "")), str(meta.get("MediaStorageSOPClassUID", "")) if meta else ""}
    if RT_STRUCTURE_SET_STORAGE in classes or str(dataset.get("Modality", "")) == "RTSTRUCT":
        return
    modality = dataset.get("Modality", "") or "none"
    raise InputError(f"{name} is not an RTSTRUCT (Modality {modality}, SOP Class {dataset.get('SOPClassUID', 'none')}).",
                     hint="Pass the structure set file (Modality RTSTRUCT), not an image.")


def _check_masks(source_masks: Mapping[str, np.ndarray | MaskBlock] | None, ct: CTVolume) -> None:
    wrong = [f"{name} {_placement(mask)}" for name, mask in (source_masks or {}).items()
             if not _on_grid(mask, ct.hu.shape)]
    if wrong:
        raise InputError(f"Source masks not on the CT grid {ct.hu.shape}: {', '.join(wrong)}.",
                         hint="Give full-grid (k, j, i) masks of the CT the RTSTRUCT references.")


def _on_grid(mask: np.ndarray | MaskBlock, shape: tuple[int, ...]) -> bool:
    if isinstance(mask, MaskBlock):
        return mask.block.size == 0 or fits(mask.block, mask.offset_kji, shape)
    return np.shape(mask) == shape


def _placement(mask: np.ndarray | MaskBlock) -> str:
    if isinstance(mask, MaskBlock):
        return f"{mask.block.shape} at {mask.offset_kji}"
    return str(np.shape(mask))


__all__ = ["SCHEMA", "VerificationReport", "verify_rtstruct"]
