"""Write the phantom as a CT Image Storage series: one explicit-VR little-endian file per slice.

Pixels are stored signed with RescaleIntercept -1024 (stored = HU + 1024), so every HU from -3024
(padding) to 3071 round-trips exactly. Files are named by SOP Instance UID, which is not slice
order: a loader that sorts by file name instead of by position gets a scrambled volume.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian

from .. import __version__
from ..dicom_compat import save_dataset
from ..progress import ProgressCallback, report
from . import tissues
from .model import PhantomVariant, PhantomVolume
from .uids import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, SeriesUIDs

logger = logging.getLogger(__name__)

RESCALE_INTERCEPT = -1024
STUDY_DATE, STUDY_TIME = "20240102", "093000"


@dataclass(frozen=True)
class VariantText:
    """Descriptions and display windows that differ between variants."""

    body_part: str
    study_description: str
    series_description: str
    window_centers: tuple[int, ...]
    window_widths: tuple[int, ...]
    window_names: tuple[str, ...]
    patient_sex: str


TEXT = {
    PhantomVariant.THORAX: VariantText("CHEST", "OARContour phantom thorax", "Thorax", (40, -600), (400, 1500),
                                       ("MEDIASTINUM", "LUNG"), "M"),
    PhantomVariant.HEADNECK: VariantText("HEADNECK", "OARContour phantom head and neck", "Head and neck", (40, 35),
                                         (400, 80), ("SOFT_TISSUE", "BRAIN"), "F"),
}


def _ds(value: float) -> str:
    """Decimal String without float noise (values are already rounded to 0.1 micrometre)."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def series_dataset(volume: PhantomVolume, uids: SeriesUIDs) -> Dataset:
    """Attributes shared by every slice: Patient, Study, Series, Frame of Reference, Equipment, Image."""
    text = TEXT[volume.variant]
    seed = volume.seed
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = CTImageStorage
    ds.PatientName = "OARContour^Phantom"
    ds.PatientID = f"OARC-PHANTOM-{volume.variant.value.upper()}-{seed}"[:64]
    ds.PatientBirthDate = "19600101"
    ds.PatientSex = text.patient_sex
    ds.StudyInstanceUID = uids.study
    ds.StudyDate, ds.StudyTime = STUDY_DATE, STUDY_TIME
    ds.ReferringPhysicianName = ""
    ds.StudyID = f"PH{seed % 10**14}"
    ds.AccessionNumber = f"OARC{seed % 10**12}"
    ds.StudyDescription = text.study_description
    ds.Modality = "CT"
    ds.SeriesInstanceUID = uids.series
    ds.SeriesNumber = 2
    ds.SeriesDate, ds.SeriesTime = STUDY_DATE, STUDY_TIME
    thickness = volume.geometry.spacing_mm[2]
    ds.SeriesDescription = f"{text.series_description} {thickness:g}mm {volume.patient_position.value}"[:64]
    ds.BodyPartExamined = text.body_part
    ds.PatientPosition = volume.patient_position.value
    ds.OperatorsName = "OARContour^Phantom"
    ds.FrameOfReferenceUID = uids.frame_of_reference
    ds.PositionReferenceIndicator = ""
    _equipment(ds)
    _image_common(ds, volume)
    return ds


def _equipment(ds: Dataset) -> None:
    ds.Manufacturer = "OARContour"
    ds.ManufacturerModelName = "Phantom"
    ds.InstitutionName = "OARContour"
    ds.SoftwareVersions = __version__
    ds.DeviceSerialNumber = "0"


def _image_common(ds: Dataset, volume: PhantomVolume) -> None:
    text = TEXT[volume.variant]
    geometry = volume.geometry
    nk, rows, columns = geometry.shape
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.AcquisitionNumber = 1
    ds.ContentDate, ds.ContentTime = STUDY_DATE, STUDY_TIME
    ds.AcquisitionDate, ds.AcquisitionTime = STUDY_DATE, STUDY_TIME
    ds.BurnedInAnnotation = "NO"
    ds.KVP = "120"
    ds.SliceThickness = _ds(geometry.spacing_mm[2])
    ds.ReconstructionDiameter = _ds(min(rows, columns) * geometry.spacing_mm[0])
    ds.ConvolutionKernel = "STANDARD"
    ds.ImageOrientationPatient = [_ds(v) for v in volume.patient_position.image_orientation_patient]
    ds.PixelSpacing = [_ds(geometry.spacing_mm[1]), _ds(geometry.spacing_mm[0])]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = rows, columns
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelRepresentation = 1
    ds.PixelPaddingValue = int(tissues.PADDING) - RESCALE_INTERCEPT
    ds.RescaleIntercept = str(RESCALE_INTERCEPT)
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.WindowCenter = [str(v) for v in text.window_centers]
    ds.WindowWidth = [str(v) for v in text.window_widths]
    ds.WindowCenterWidthExplanation = list(text.window_names)


def instance_numbers(volume: PhantomVolume) -> list[int]:
    """Acquisition order, head to foot (InstanceNumber 1 = most superior slice), for every position."""
    z = volume.geometry.origin_lps[2] + volume.geometry.direction[2][2] * volume.geometry.spacing_mm[2] * np.arange(
        volume.geometry.shape[0])
    order = np.argsort(-z, kind="stable")
    numbers = np.empty(len(z), dtype=int)
    numbers[order] = np.arange(1, len(z) + 1)
    return [int(n) for n in numbers]


def slice_dataset(shared: Dataset, volume: PhantomVolume, uids: SeriesUIDs, k: int, instance: int) -> Dataset:
    """One slice: the shared attributes plus its UID, number, position and pixels."""
    geometry = volume.geometry
    ds = Dataset()
    ds.update(shared)
    ds.SOPInstanceUID = uids.instances[k]
    ds.InstanceNumber = instance
    position = np.asarray(geometry.origin_lps) + k * geometry.spacing_mm[2] * geometry.direction_matrix[:, 2]
    ds.ImagePositionPatient = [_ds(round(float(v), 4)) for v in position]
    ds.SliceLocation = _ds(round(float(position[2]), 4))
    stored = volume.hu[k].astype(np.int32) - RESCALE_INTERCEPT
    ds.PixelData = stored.astype("<i2").tobytes()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = UID(uids.instances[k])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = UID(IMPLEMENTATION_CLASS_UID)
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    ds.file_meta = meta
    return ds


def write_series(volume: PhantomVolume, uids: SeriesUIDs, folder: Path,
                 progress: ProgressCallback | None = None) -> tuple[Path, ...]:
    """Write every slice into ``folder`` (which must exist); returns the paths in slice (k) order."""
    shared = series_dataset(volume, uids)
    numbers = instance_numbers(volume)
    paths = []
    count = volume.geometry.shape[0]
    for k in range(count):
        if k % 10 == 0:
            report(progress, k / count, f"Writing CT slice {k + 1}/{count}")
        ds = slice_dataset(shared, volume, uids, k, numbers[k])
        path = folder / f"{uids.instances[k]}.dcm"
        save_dataset(ds, path, enforce_file_format=True)
        paths.append(path)
    report(progress, 1.0, f"Wrote {count} CT slices")
    return tuple(paths)
