"""The RT Structure Set IOD as a pydicom Dataset: modules copied from the CT and our ROIs.

The shape follows the one RTSTRUCT in our test data that passes dciodvfy with 0 errors (an
Eclipse/ARIA export): top-level Frame of Reference, PositionReferenceIndicator and OperatorsName
present, every Type 2 attribute present even when empty.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import Tag
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian, generate_uid

from .. import __version__
from ..ct.model import CTVolume
from .contour_data import PatientContour
from .model import ExportOptions, Structure
from .raw_contours import contour_sequence_value

RT_STRUCTURE_SET_STORAGE = "1.2.840.10008.5.1.4.1.1.481.3"
CONTOUR_SEQUENCE = Tag(0x3006, 0x0040)
#: Retired Detached Study Management SOP Class: what RT Referenced Study items name (C.8.8.5).
STUDY_COMPONENT_CLASS = "1.2.840.10008.3.1.2.3.1"
PATIENT_STUDY_KEYWORDS = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                          "AccessionNumber", "ReferringPhysicianName", "StudyDescription", "StudyID")


def new_dataset(ct: CTVolume, options: ExportOptions, now: datetime.datetime) -> Dataset:
    """Patient, study, series, frame of reference, equipment and SOP common modules."""
    ds = Dataset()
    ds.file_meta = _file_meta(generate_uid())
    attributes = ct.reference.attributes
    ds.SpecificCharacterSet = attributes.get("SpecificCharacterSet") or "ISO_IR 100"
    ds.InstanceCreationDate, ds.InstanceCreationTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    ds.SOPClassUID = RT_STRUCTURE_SET_STORAGE
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    for keyword in PATIENT_STUDY_KEYWORDS:
        setattr(ds, keyword, attributes.get(keyword, ""))
    ds.StudyID = ds.StudyID[:16]  # SH; some vendors write 17 characters
    ds.Modality = "RTSTRUCT"
    ds.Manufacturer = "OARContour"
    ds.ManufacturerModelName = "OARContour"
    ds.SoftwareVersions = __version__
    ds.SeriesDescription = options.series_description[:64]
    ds.OperatorsName = options.operators_name
    ds.StudyInstanceUID = ct.reference.study_instance_uid
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = 1001
    ds.InstanceNumber = 1
    ds.FrameOfReferenceUID = ct.reference.frame_of_reference_uid
    ds.PositionReferenceIndicator = attributes.get("PositionReferenceIndicator", "")
    return ds


def _file_meta(sop_instance_uid: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(RT_STRUCTURE_SET_STORAGE)
    meta.MediaStorageSOPInstanceUID = UID(sop_instance_uid)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = f"OARCONTOUR_{__version__.replace('.', '')}"[:16]
    return meta


def add_structure_set(ds: Dataset, ct: CTVolume, options: ExportOptions, now: datetime.datetime) -> None:
    """Structure Set module header and the reference chain FoR → study → series → every slice."""
    ds.StructureSetLabel = options.structure_set_label
    ds.StructureSetName = options.structure_set_label
    ds.StructureSetDate, ds.StructureSetTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    ds.ReferencedFrameOfReferenceSequence = DicomSequence([referenced_frame(ct)])
    ds.StructureSetROISequence = DicomSequence()
    ds.ROIContourSequence = DicomSequence()
    ds.RTROIObservationsSequence = DicomSequence()
    ds.ApprovalStatus = options.approval_status


def referenced_frame(ct: CTVolume) -> Dataset:
    """The Referenced Frame of Reference item: FoR → study → series → every slice of ``ct``."""
    series = Dataset()
    series.SeriesInstanceUID = ct.reference.series_instance_uid
    series.ContourImageSequence = DicomSequence([image_item(ct, k) for k in range(len(ct.slices))])
    study = Dataset()
    study.ReferencedSOPClassUID = STUDY_COMPONENT_CLASS
    study.ReferencedSOPInstanceUID = ct.reference.study_instance_uid
    study.RTReferencedSeriesSequence = DicomSequence([series])
    frame = Dataset()
    frame.FrameOfReferenceUID = ct.reference.frame_of_reference_uid
    frame.RTReferencedStudySequence = DicomSequence([study])
    return frame


def image_item(ct: CTVolume, k: int) -> Dataset:
    """A Contour Image item referencing slice ``k`` of ``ct``."""
    item = Dataset()
    item.ReferencedSOPClassUID = ct.slices[k].sop_class_uid
    item.ReferencedSOPInstanceUID = ct.slices[k].sop_instance_uid
    return item


def add_roi(ds: Dataset, ct: CTVolume, number: int, structure: Structure, contours: Sequence[PatientContour],
            write_codes: bool, image_items: Sequence[bytes]) -> None:
    """One ROI in the three ROI sequences, linked by ROI Number (never by position)."""
    roi = Dataset()
    roi.ROINumber = number
    roi.ReferencedFrameOfReferenceUID = ct.reference.frame_of_reference_uid
    roi.ROIName = structure.name
    roi.ROIGenerationAlgorithm = structure.algorithm.value
    if structure.description:
        roi.ROIGenerationDescription = structure.description[:64]
    ds.StructureSetROISequence.append(roi)
    ds.ROIContourSequence.append(_roi_contour(number, structure, contours, image_items))
    ds.RTROIObservationsSequence.append(_observation(number, structure, write_codes))


def _roi_contour(number: int, structure: Structure, contours: Sequence[PatientContour],
                 image_items: Sequence[bytes]) -> Dataset:
    item = Dataset()
    item.ROIDisplayColor = [int(c) for c in structure.color]
    if contours:
        value = contour_sequence_value(contours, image_items)
        item[CONTOUR_SEQUENCE] = RawDataElement(CONTOUR_SEQUENCE, "SQ", len(value), value, 0, False, True)
    item.ReferencedROINumber = number
    # Declared as already encoded (explicit VR little endian), so pydicom writes the raw contour
    # sequence as is instead of parsing it back into Datasets.
    item.set_original_encoding(False, True, item._character_set)
    return item


def _observation(number: int, structure: Structure, write_codes: bool) -> Dataset:
    item = Dataset()
    item.ObservationNumber = number
    item.ReferencedROINumber = number
    item.ROIObservationLabel = structure.name[:16]
    if write_codes and structure.code is not None:
        code = Dataset()
        code.CodeValue = structure.code.value
        code.CodingSchemeDesignator = structure.code.scheme
        code.CodeMeaning = structure.code.meaning
        item.RTROIIdentificationCodeSequence = DicomSequence([code])
    item.RTROIInterpretedType = structure.roi_type.value
    item.ROIInterpreter = ""
    return item
