"""The file-based round trip: a CT folder de-identified into a new folder, one RTSTRUCT re-identified.

Inputs are never modified; outputs appear complete or not at all (staging folder, then rename;
temporary file, then rename). The map must not lie inside the output folder: the output is what
leaves the hospital.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError

from ..atomic import publish_folder, write_file
from ..ct.load import load_ct
from ..ct.scan import FileHeader, scan_folder
from ..dicom_compat import save_dataset
from ..errors import InputError
from ..rtstruct.read import read_rtstruct
from .deidentify import Deidentifier
from .map_store import DeidMap
from .reidentify import MasksOrFactory, ReidentificationRefused, Reidentified, check_uid_root, reidentify

logger = logging.getLogger(__name__)

#: What re-identification needs of every slice: the references of a returned RTSTRUCT point at these.
REQUIRED_UIDS = ("SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID", "FrameOfReferenceUID")
#: |row · x| and |column · y| above this: an axial slice (HFS, HFP, FFS, FFP alike).
AXIAL_COSINE = 0.99


@dataclass(frozen=True)
class DeidentifyReport:
    """What one de-identification wrote and skipped (no identifying values in it)."""

    out_dir: str
    instances: int
    series: int
    skipped_files: int

    def to_dict(self) -> dict[str, Any]:
        return {"out_dir": self.out_dir, "instances": self.instances, "series": self.series,
                "skipped_files": self.skipped_files}


def check_map_outside(map_path: Path, out: Path) -> None:
    """Refuse a map inside the folder that is sent out."""
    if map_path.expanduser().resolve().is_relative_to(out.expanduser().resolve()):
        raise InputError(f"The map {map_path} lies inside the output {out}, which leaves the hospital.",
                         hint="Keep the map elsewhere, e.g. --map /var/lib/oarcontour/deid-map.sqlite.")


def axial_ct_headers(ct_dir: str | Path) -> tuple[list[FileHeader], int]:
    """The headers of every axial CT image under ``ct_dir`` and the number of other files.

    Raises
    ------
    InputError
        No CT image; a CT that is not axial, a localizer, or has burned-in annotation.
    """
    scanned = scan_folder(ct_dir)
    headers = [h for series in scanned.series for h in series.image_headers if h.modality == "CT"]
    if not headers:
        raise InputError(f"No CT image in {ct_dir}.", hint="Give a folder holding an axial CT series.")
    for header in headers:
        _check_axial(header)
    return headers, scanned.file_count - len(headers)


def _check_axial(header: FileHeader) -> None:
    orientation = header.floats("ImageOrientationPatient")
    image_type = header.text("ImageType").upper()
    axial = orientation is not None and len(orientation) == 6 and \
        abs(orientation[0]) > AXIAL_COSINE and abs(orientation[4]) > AXIAL_COSINE
    if not axial or "LOCALIZER" in image_type:
        raise InputError(f"{header.path.name} is not an axial CT slice; only axial CT is de-identified.",
                         hint="Send the axial CT series only (no localizers, reformats or secondary captures).")
    missing = [k for k in REQUIRED_UIDS if not header.text(k)]
    if missing:
        raise InputError(f"{header.path.name} has no {', '.join(missing)}: an RTSTRUCT coming back could not be "
                         "mapped onto it.", hint="Export the CT from the PACS or scanner again (with its UIDs).")
    if header.text("BurnedInAnnotation").upper() == "YES":
        raise InputError(f"{header.path.name} has burned-in annotation, which header de-identification cannot remove.",
                         hint="Send a CT series without burned-in text.")


def deidentify_folder(ct_dir: str | Path, out: str | Path, map_path: str | Path) -> DeidentifyReport:
    """De-identify every axial CT image of ``ct_dir`` into the new folder ``out``; the map is updated."""
    out_dir, map_file = Path(out).expanduser(), Path(map_path).expanduser()
    check_map_outside(map_file, out_dir)
    if out_dir.expanduser().resolve().is_relative_to(Path(ct_dir).expanduser().resolve()):
        raise InputError(f"Output {out_dir} lies inside the CT folder {ct_dir}, which is never modified.",
                         hint="Give --out a folder outside CT_DIR.")
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise InputError(f"Output {out_dir} exists and is not an empty folder.", hint="Give a new folder to --out.")
    headers, skipped = axial_ct_headers(ct_dir)
    staging = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    series = set()
    try:
        with DeidMap(map_file) as deid_map:
            deidentifier = Deidentifier(deid_map)
            for header in headers:
                dataset = pydicom.dcmread(header.path)
                deidentifier.deidentify(dataset)
                _fresh_meta(dataset)
                series.add(str(dataset.SeriesInstanceUID))
                save_dataset(dataset, staging / f"CT.{dataset.SOPInstanceUID}.dcm", enforce_file_format=True)
        publish_folder(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info("De-identified %d CT instances (%d series); %d other files not copied", len(headers), len(series),
                skipped)
    return DeidentifyReport(str(out_dir), len(headers), len(series), skipped)


def _fresh_meta(dataset: Dataset) -> None:
    """File meta of the de-identified instance only: no source AE title or sender information kept."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = dataset.SOPClassUID
    meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    meta.TransferSyntaxUID = dataset.file_meta.TransferSyntaxUID
    dataset.file_meta = meta


def reidentify_file(rtstruct: str | Path, map_path: str | Path, ct_dir: str | Path, out: str | Path,
                    uid_root: str | None = None, tps: str = "generic",
                    deid_ct_dir: str | Path | None = None) -> Reidentified:
    """Re-identify the RTSTRUCT file onto the original CT folder and write it to ``out`` (atomically).

    With ``deid_ct_dir`` (the de-identified CT the service contoured) the verification also checks
    the round-trip Dice of every ROI against its masks on that CT.
    """
    map_file, out_file = Path(map_path).expanduser(), Path(out).expanduser()
    if uid_root is not None:
        check_uid_root(uid_root)
    if out_file.resolve() == Path(rtstruct).expanduser().resolve():
        raise InputError(f"--out {out_file} is the returned file itself, which is never modified.",
                         hint="Give --out another path.")
    if not map_file.is_file():
        raise InputError(f"Map {map_file} not found.", hint="Give the map written by `oarcontour deidentify`.")
    if not out_file.parent.is_dir():
        raise InputError(f"Folder of {out_file} does not exist.", hint="Create it or give another --out path.")
    try:
        returned = pydicom.dcmread(Path(rtstruct).expanduser())
    except (OSError, InvalidDicomError) as exc:
        raise ReidentificationRefused(f"{rtstruct} cannot be read as DICOM ({exc}).",
                                      hint="Give the RTSTRUCT file the service returned.") from exc
    with DeidMap(map_file) as deid_map:
        masks = (lambda: returned_masks(Path(rtstruct).expanduser(), deid_ct_dir)) if deid_ct_dir else None
        result = reidentify_loaded(returned, deid_map, ct_dir, uid_root, tps, masks)
    write_file(out_file, lambda path: save_dataset(result.dataset, path, enforce_file_format=True))
    return result


def reidentify_loaded(returned: Dataset, deid_map: DeidMap, ct_dir: str | Path, uid_root: str | None = None,
                      tps: str = "generic", source_masks: MasksOrFactory = None) -> Reidentified:
    """:func:`.reidentify` with the original CT series loaded from ``ct_dir`` (the one the file names)."""
    ct = load_ct(ct_dir, original_series_uid(returned, deid_map))
    return reidentify(returned, deid_map, ct, uid_root, tps, source_masks)


def returned_masks(rtstruct: Path, deid_ct_dir: str | Path) -> dict[str, np.ndarray]:
    """The returned ROIs rasterised on the de-identified CT they were drawn on (uniquely named, non-empty)."""
    deid_ct = load_ct(deid_ct_dir)
    contents = read_rtstruct(rtstruct, deid_ct)
    if contents.frame_of_reference_uid != deid_ct.reference.frame_of_reference_uid:
        raise ReidentificationRefused(f"The returned RTSTRUCT was not drawn on the de-identified CT {deid_ct_dir} "
                                      "(another Frame of Reference).",
                                      hint="The structure set must be drawn on the de-identified CT sent out "
                                           "(with `reidentify`, give --deid-ct the folder `deidentify` wrote).")
    names = [roi.name for roi in contents.rois]
    return {roi.name: roi.mask for roi in contents.rois if names.count(roi.name) == 1 and roi.mask.any()}


def original_series_uid(returned: Dataset, deid_map: DeidMap) -> str | None:
    """The original Series Instance UID of the CT a returned RTSTRUCT references (None if unknown)."""
    for frame in returned.get("ReferencedFrameOfReferenceSequence", []):
        for study in frame.get("RTReferencedStudySequence", []):
            for series in study.get("RTReferencedSeriesSequence", []):
                original = deid_map.original_uid(str(series.get("SeriesInstanceUID", "")))
                if original:
                    return original
    return None


__all__ = ["DeidentifyReport", "axial_ct_headers", "check_map_outside", "deidentify_folder", "original_series_uid",
           "reidentify_file", "returned_masks",
           "reidentify_loaded"]
