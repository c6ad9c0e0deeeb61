"""Load the chosen CT series into HU voxels with its geometry and reference information."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from ..errors import GeometryError, InputError
from ..findings import Severity
from ..progress import ProgressCallback, scaled
from .checks import SeriesLayout
from .inspection import Inspection, inspect_folder
from .model import CTVolume, SeriesReference, SliceReference
from .pixels import stack_hu
from .problems import GRID_BREAKING
from .scan import FileHeader

logger = logging.getLogger(__name__)

#: Patient, study and series attributes an RTSTRUCT copies from the CT it references.
REFERENCE_KEYWORDS = (
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "PatientAge", "OtherPatientIDs",
    "StudyDate", "StudyTime", "StudyID", "StudyDescription", "AccessionNumber", "ReferringPhysicianName",
    "SeriesDescription", "SeriesNumber", "PatientPosition", "PositionReferenceIndicator",
    "Manufacturer", "InstitutionName", "SpecificCharacterSet",
)


def load_ct(path: str | Path, series_uid: str | None = None,
            progress: ProgressCallback | None = None, voxels: np.ndarray | None = None) -> CTVolume:
    """Load a CT series from a folder of DICOM files (searched recursively).

    Parameters
    ----------
    path
        Folder holding the CT slices (other series and non-DICOM files may be present).
    series_uid
        Series Instance UID to load; by default the CT series with the most slices.
    progress
        Optional ``progress(fraction, message) -> cancel`` callback.
    voxels
        The series' voxels (k, j, i) when the caller already holds them (e.g. the volume node the
        Slicer module loaded from these files): used as ``hu`` instead of decoding the pixel data
        again, when their shape is the series' grid; otherwise the pixel data is read.

    Returns
    -------
    CTVolume
        HU voxels (k, j, i), geometry in LPS, per-slice references and all problems found
        (warnings, and errors such as empty UIDs that do not prevent loading).

    Raises
    ------
    InputError
        Missing or empty folder, no DICOM files, unknown ``series_uid``.
    GeometryError
        The series does not form one regular grid (missing or duplicate slices, tilt, mixed
        geometry, unsupported compression); the message lists each problem.
    """
    started = time.perf_counter()
    inspection = inspect_folder(path, series_uid, scaled(progress, 0.0, 0.3))
    layout = _loadable_layout(inspection)
    assert layout.geometry is not None
    if voxels is not None and tuple(voxels.shape) == tuple(layout.geometry.shape):
        hu = voxels
    else:
        hu = stack_hu(layout.headers, scaled(progress, 0.3, 1.0))
    volume = CTVolume(
        hu=hu, geometry=layout.geometry,
        slices=tuple(_slice_reference(h, p) for h, p in zip(layout.headers, layout.positions_mm, strict=True)),
        reference=_series_reference(layout.headers[0]),
        problems=tuple(inspection.problems_for_selection()),
    )
    logger.info("Loaded %d slices of %dx%d from %s in %.2f s", hu.shape[0], hu.shape[1], hu.shape[2],
                inspection.folder.name, time.perf_counter() - started)
    return volume


def _loadable_layout(inspection: Inspection) -> SeriesLayout:
    if inspection.selected is None:
        messages = "; ".join(p.message for p in inspection.problems if p.severity is Severity.ERROR)
        raise InputError(f"No image series to load in {inspection.folder}: {messages}",
                         hint="Point to the folder with the CT slices.")
    blocking = [p for p in inspection.problems_for_selection()
                if p.severity is Severity.ERROR and p.code in GRID_BREAKING]
    layout = inspection.layouts.get(inspection.selected)
    if blocking or layout is None or layout.geometry is None:
        details = " ".join(f"[{p.code.value}] {p.message}" for p in blocking) or "no usable slice geometry"
        hint = blocking[0].hint if blocking else "Check the series with `oarcontour inspect`."
        raise GeometryError(f"Series {inspection.selected or '(empty UID)'} cannot be loaded: {details}", hint=hint)
    return layout


def _slice_reference(header: FileHeader, position: float) -> SliceReference:
    ipp = header.floats("ImagePositionPatient") or (0.0, 0.0, 0.0)
    return SliceReference(header.text("SOPClassUID"), header.text("SOPInstanceUID"),
                          (float(ipp[0]), float(ipp[1]), float(ipp[2])), float(position), header.path)


def _series_reference(header: FileHeader) -> SeriesReference:
    return SeriesReference(
        study_instance_uid=header.text("StudyInstanceUID"),
        series_instance_uid=header.text("SeriesInstanceUID"),
        frame_of_reference_uid=header.text("FrameOfReferenceUID"),
        modality=header.modality,
        attributes={keyword: header.text(keyword) for keyword in REFERENCE_KEYWORDS},
    )
