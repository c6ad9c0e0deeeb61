"""Write an RTSTRUCT that references the original CT: masks in, a conformant file out."""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from ..atomic import write_file
from ..ct.model import CTVolume
from ..dicom_compat import save_dataset
from ..errors import InputError
from ..finding_codes import FindingCode
from ..findings import Finding
from ..mask_block import crop
from ..progress import ProgressCallback, report
from . import dataset as modules
from .contour_data import PatientContour, contour_texts
from .contours import HoleEncoding, trace_loops
from .input_checks import check_ct, check_external, check_label, check_masks, check_names
from .model import ExportOptions, ExportReport, RoiSummary, Structure
from .profiles import EmptyRoiPolicy, TPSProfile, load_profile
from .raw_contours import image_reference_items

logger = logging.getLogger(__name__)


def write_rtstruct(path: str | Path, ct: CTVolume, structures: Sequence[Structure],
                   options: ExportOptions | None = None, progress: ProgressCallback | None = None) -> ExportReport:
    """Write ``structures`` as an RTSTRUCT referencing ``ct``; atomically (temporary file, rename).

    Parameters
    ----------
    path
        Output file; refused if it exists unless ``options.overwrite``, and never one of the CT files.
    ct
        The loaded CT series (see :func:`OARContourLib.ct.load.load_ct`).
    structures
        Masks on the CT grid with names, colours and types.
    options
        Profile and choices; defaults to the generic profile.
    progress
        Optional ``progress(fraction, message) -> cancel`` callback.

    Returns
    -------
    ExportReport
        ROIs written and findings (empty ROIs, a missing EXTERNAL).

    Raises
    ------
    InputError
        The output exists (without overwrite), is a CT file, or its folder does not exist.
    ExportError
        The CT cannot be referenced (empty UIDs).
    GeometryError
        A mask is not on the CT grid.
    NamingError
        Names invalid for the profile, duplicates ignoring case, more than one EXTERNAL.
    """
    started = time.perf_counter()
    options = options or ExportOptions()
    target = _check_target(Path(path), ct, options.overwrite)
    ds, rois, findings = build_rtstruct(ct, structures, options, progress)
    _save_atomically(ds, target)
    report(progress, 1.0, f"Wrote {target.name}")
    logger.info("Wrote RTSTRUCT %s with %d ROIs in %.2f s", target.name, len(rois), time.perf_counter() - started)
    return ExportReport(str(target), ds.SOPInstanceUID, ds.SeriesInstanceUID, options.tps, tuple(rois),
                        tuple(findings), time.perf_counter() - started)


def build_rtstruct(ct: CTVolume, structures: Sequence[Structure], options: ExportOptions,
                   progress: ProgressCallback | None = None) -> tuple[Dataset, list[RoiSummary], list[Finding]]:
    """The RTSTRUCT dataset (not written) plus per-ROI summaries and findings."""
    profile = load_profile(options.tps)
    check_label(options.structure_set_label)
    check_ct(ct)
    check_masks(ct, structures)
    check_names(structures, profile)
    findings = check_external(structures, profile)
    now = datetime.datetime.now()
    ds = modules.new_dataset(ct, options, now)
    modules.add_structure_set(ds, ct, options, now)
    encoding = HoleEncoding(options.hole_encoding or profile.hole.value)
    empty_policy = EmptyRoiPolicy(options.empty_roi_policy or profile.empty_policy.value)
    write_codes = profile.write_identification_codes.value if options.write_codes is None else options.write_codes
    rois: list[RoiSummary] = []
    image_items = image_reference_items(ct)
    for index, structure in enumerate(structures, start=1):
        report(progress, 0.95 * (index - 1) / max(len(structures), 1), f"Contouring {structure.name}")
        contours = structure_contours(ct, structure, encoding, options.simplify_tolerance_mm,
                                      int(profile.ds_max_decimals.value))
        written = bool(contours) or empty_policy is EmptyRoiPolicy.WRITE
        if not contours:
            findings.append(_empty_finding(structure, written))
        if written:
            modules.add_roi(ds, ct, index, structure, contours, bool(write_codes), image_items)
        rois.append(RoiSummary(index, structure.name, structure.roi_type.value, len(contours),
                               sum(c.point_count for c in contours), written))
    # Built in the encoding it will be written in: pydicom then skips re-encoding passes that
    # would otherwise parse every raw contour sequence back into Datasets.
    ds.set_original_encoding(False, True, ds._character_set)
    return ds, rois, findings


def structure_contours(ct: CTVolume, structure: Structure, encoding: HoleEncoding, simplify_mm: float,
                       decimals: int) -> list[PatientContour]:
    """Voxel-boundary contours of one mask, traced only inside its bounding box."""
    block, offset = crop(np.asarray(structure.mask, dtype=bool))
    if block.size == 0:
        return []
    lo = [a + b for a, b in zip(offset, structure.offset_kji)]
    tolerance = simplify_mm / min(ct.geometry.spacing_mm[:2]) if simplify_mm > 0 else None
    loops = trace_loops(block, encoding, origin_kji=lo, simplify_tolerance=tolerance)
    return contour_texts(loops.loops(), loops.slice_k.tolist(), ct, decimals)


def _empty_finding(structure: Structure, written: bool) -> Finding:
    action = "written without contours" if written else "omitted"
    return FindingCode.EMPTY_ROI.finding(f"Structure '{structure.name}' is empty: {action}.", structure.name,
                                         hint="Contour it, or remove it from the structure set.")


def _check_target(path: Path, ct: CTVolume, overwrite: bool) -> Path:
    target = path.expanduser().resolve()
    if not target.parent.is_dir():
        raise InputError(f"Output folder does not exist: {target.parent}", hint="Create it first.")
    if target in {s.path.resolve() for s in ct.slices}:
        raise InputError(f"{target} is one of the CT files.", hint="Choose another output name; CT files are never modified.")
    if target.exists() and not overwrite:
        raise InputError(f"{target} exists.", hint="Pass --overwrite (overwrite=True) or choose another name.")
    return target


def _save_atomically(ds: Dataset, target: Path) -> None:
    write_file(target, lambda temporary: save_dataset(ds, temporary, enforce_file_format=True))


__all__ = ["TPSProfile", "build_rtstruct", "write_rtstruct"]
