"""Correct the RTSTRUCT that SlicerRT (Plastimatch's writer) exported, into a new file.

What SlicerRT cannot set is set here: ROI types, generation algorithm and interpreter
(:mod:`.roi_metadata`), the structure set label, the character set and the Type 2 attributes
Plastimatch omits (OperatorsName, top-level Frame of Reference). By default the file is also
re-referenced to the original CT (:mod:`.rereference`), with the original's patient and study
attributes, so the duplicate CT SlicerRT wrote need not be sent.

The corrected file is a new instance (new SOP Instance and Series UIDs). Plastimatch stays the
Manufacturer, since it generated the contours; OARContour is recorded as modifying equipment in the
Contributing Equipment Sequence and in Software Versions. The input file is never modified.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Mapping
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, generate_uid

from .. import __version__
from ..atomic import write_file
from ..ct.model import CTVolume
from ..dicom_compat import save_dataset
from ..errors import InputError
from .dataset import PATIENT_STUDY_KEYWORDS, RT_STRUCTURE_SET_STORAGE
from .input_checks import check_ct, check_label
from .model import ExportReport, RoiSummary
from .rereference import DEFAULT_TOLERANCE_FRACTION, check_references_copy, check_same_grid, rereference
from .roi_metadata import RoiMetadata, apply_roi_metadata

logger = logging.getLogger(__name__)

#: DICOM code "Modifying Equipment" (DCM 109103) for the Contributing Equipment Sequence.
MODIFYING_EQUIPMENT = ("109103", "DCM", "Modifying Equipment")


def fix_slicerrt_rtstruct(source: str | Path, target: str | Path, ct: CTVolume, metadata: Mapping[str, RoiMetadata],
                          *, structure_set_label: str = "OARContour", rereference_to_ct: bool = True,
                          duplicate_ct: CTVolume | None = None, overwrite: bool = False, tps: str = "generic",
                          tolerance_fraction: float = DEFAULT_TOLERANCE_FRACTION) -> ExportReport:
    """Write a corrected copy of SlicerRT's RTSTRUCT ``source`` to ``target`` (atomically).

    Parameters
    ----------
    source
        The RTSTRUCT SlicerRT (Plastimatch) wrote; read only.
    target
        The corrected file; refused if it exists unless ``overwrite``.
    ct
        The original CT (:func:`OARContourLib.ct.load.load_ct`): the file is re-referenced to it.
        With ``rereference_to_ct=False`` give the CT SlicerRT wrote instead.
    metadata
        ROI name → type, algorithm, description and interpreter (see :func:`.roi_metadata.metadata_of`).
    structure_set_label
        Structure Set Label and Name (SH, at most 16 characters).
    rereference_to_ct
        Point every reference at ``ct`` and copy its patient and study attributes.
    duplicate_ct
        The CT SlicerRT wrote beside ``source``; when given, its grid must match ``ct``'s.
    overwrite, tps
        Replace an existing ``target``; profile name recorded in the report.
    tolerance_fraction
        A contour belongs to a slice when its plane lies within this fraction of the slice spacing.

    Returns
    -------
    ExportReport
        The new file's UIDs, every ROI written and warnings (e.g. segments SlicerRT dropped).

    Raises
    ------
    InputError
        Unreadable or non-RTSTRUCT ``source``; ``target`` exists or is ``source``; a label over 16
        characters; an ROI without metadata; the duplicate CT's grid differs from ``ct``'s; a
        contour lies on no slice of ``ct``.
    ExportError
        ``ct`` cannot be referenced (anonymised, empty UIDs).
    """
    started = time.perf_counter()
    source_path, target_path = _check_paths(Path(source), Path(target), overwrite)
    check_label(structure_set_label)
    ds = _read_rtstruct(source_path)
    if rereference_to_ct:
        check_ct(ct)
    if duplicate_ct is not None:
        check_same_grid(ct, duplicate_ct)
        check_references_copy(ds, duplicate_ct)
    findings = apply_roi_metadata(ds, metadata)
    if rereference_to_ct:
        _copy_patient_and_study(ds, ct)
        rereference(ds, ct, tolerance_fraction)
    _fix_structure_set(ds, structure_set_label, ct)
    done = "set ROI types and algorithms" + ("; re-referenced to the original CT" if rereference_to_ct else "")
    _make_new_instance(ds, datetime.datetime.now(), f"OARContour {done}")
    write_file(target_path, lambda temporary: save_dataset(ds, temporary, enforce_file_format=True))
    rois = _summaries(ds)
    logger.info("Corrected SlicerRT RTSTRUCT %s -> %s (%d ROIs, re-referenced: %s) in %.2f s", source_path.name,
                target_path.name, len(rois), rereference_to_ct, time.perf_counter() - started)
    return ExportReport(str(target_path), str(ds.SOPInstanceUID), str(ds.SeriesInstanceUID), tps, tuple(rois),
                        tuple(findings), time.perf_counter() - started)


def _check_paths(source: Path, target: Path, overwrite: bool) -> tuple[Path, Path]:
    source, target = source.expanduser().resolve(), target.expanduser().resolve()
    if not source.is_file():
        raise InputError(f"RTSTRUCT file not found: {source}", hint="Give the RTSTRUCT SlicerRT exported.")
    if target == source:
        raise InputError(f"{target.name} is the input file.", hint="Write the corrected file under another name.")
    if not target.parent.is_dir():
        raise InputError(f"Output folder does not exist: {target.parent}", hint="Create it first.")
    if target.exists() and not overwrite:
        raise InputError(f"{target} exists.", hint="Pass overwrite=True or choose another name.")
    return source, target


def _read_rtstruct(path: Path) -> Dataset:
    try:
        ds = pydicom.dcmread(path)
    except (InvalidDicomError, OSError, EOFError, ValueError, TypeError) as exc:
        raise InputError(f"{path.name} cannot be read as DICOM ({type(exc).__name__}: {exc}).",
                         hint="Give the RTSTRUCT file SlicerRT exported.") from exc
    if str(ds.get("SOPClassUID", "")) != RT_STRUCTURE_SET_STORAGE:
        raise InputError(f"{path.name} is not an RTSTRUCT (Modality {ds.get('Modality', 'none')}).",
                         hint="Give the rtss_*.dcm file of the export, not a CT slice.")
    return ds


def _copy_patient_and_study(ds: Dataset, ct: CTVolume) -> None:
    """Patient and study modules as the original CT says (SlicerRT fills gaps with ANONYMOUS, PL<random>)."""
    attributes = ct.reference.attributes
    for keyword in PATIENT_STUDY_KEYWORDS:
        setattr(ds, keyword, attributes.get(keyword, ""))
    ds.StudyID = ds.StudyID[:16]  # SH; some vendors write 17 characters
    ds.StudyInstanceUID = ct.reference.study_instance_uid
    ds.SpecificCharacterSet = attributes.get("SpecificCharacterSet") or "ISO_IR 100"


def _fix_structure_set(ds: Dataset, label: str, ct: CTVolume) -> None:
    ds.StructureSetLabel = label
    ds.StructureSetName = label
    if not ds.get("SpecificCharacterSet"):
        ds.SpecificCharacterSet = "ISO_IR 100"
    if "OperatorsName" not in ds:
        ds.OperatorsName = ""
    if not ds.get("FrameOfReferenceUID"):  # Type 1 in the Frame of Reference module; Plastimatch omits it
        frames = ds.get("ReferencedFrameOfReferenceSequence", [])
        ds.FrameOfReferenceUID = frames[0].FrameOfReferenceUID if frames else ct.reference.frame_of_reference_uid
    if "PositionReferenceIndicator" not in ds:
        ds.PositionReferenceIndicator = ""


def _make_new_instance(ds: Dataset, now: datetime.datetime, description: str) -> None:
    """New UIDs and creation time; OARContour recorded as modifying equipment."""
    ds.SOPInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.InstanceCreationDate, ds.InstanceCreationTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta.ImplementationVersionName = f"OARCONTOUR_{__version__.replace('.', '')}"[:16]
    element = ds.get("SoftwareVersions")
    versions = [str(element)] if isinstance(element, str) else [str(v) for v in element or []]
    ds.SoftwareVersions = [*(v for v in versions if v), f"OARContour {__version__}"]
    ds.ContributingEquipmentSequence = DicomSequence([_modifying_equipment(now, description)])


def _modifying_equipment(now: datetime.datetime, description: str) -> Dataset:
    purpose = Dataset()
    purpose.CodeValue, purpose.CodingSchemeDesignator, purpose.CodeMeaning = MODIFYING_EQUIPMENT
    item = Dataset()
    item.PurposeOfReferenceCodeSequence = DicomSequence([purpose])
    item.Manufacturer = "OARContour"
    item.ManufacturerModelName = "OARContour"
    item.SoftwareVersions = __version__
    item.ContributionDateTime = now.strftime("%Y%m%d%H%M%S")
    item.ContributionDescription = description
    return item


def _summaries(ds: Dataset) -> list[RoiSummary]:
    types = {int(o.ReferencedROINumber): str(o.get("RTROIInterpretedType", ""))
             for o in ds.get("RTROIObservationsSequence", [])}
    contours = {int(c.ReferencedROINumber): c.get("ContourSequence", []) for c in ds.get("ROIContourSequence", [])}
    summaries = []
    for roi in ds.get("StructureSetROISequence", []):
        number = int(roi.ROINumber)
        items = contours.get(number, [])
        points = sum(int(item.get("NumberOfContourPoints", 0)) for item in items)
        summaries.append(RoiSummary(number, str(roi.ROIName), types.get(number, ""), len(items), points, True))
    return summaries


__all__ = ["RoiMetadata", "fix_slicerrt_rtstruct"]
