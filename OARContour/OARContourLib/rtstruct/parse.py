"""Parse an RTSTRUCT file into plain records: ROIs (by ROI Number) and their contours in LPS.

Tolerant on read (house style §4): vendor quirks become warning findings, never exceptions. Only a
file that is not an RT Structure Set at all raises :class:`~OARContourLib.errors.InputError`.
ROIs, observations and contours are joined by ROI Number / Referenced ROI Number, never by their
position in the sequences (RayStation omits the ROI Contour items of empty ROIs).
"""

from __future__ import annotations

import enum
import logging
import struct
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from ..ct.scan import open_regular
from ..errors import InputError
from ..finding_codes import FindingCode
from ..findings import Finding, Severity
from ..name_rules import name_key
from .completeness import truncation_problem
from .encoded_contours import CONTOUR_DATA, encoded_contours

logger = logging.getLogger(__name__)

RT_STRUCTURE_SET_STORAGE = "1.2.840.10008.5.1.4.1.1.481.3"
#: Contour types rasterised as areas; CLOSEDPLANAR_XOR (2024) is what even-odd filling does anyway.
AREA_TYPES = frozenset({"CLOSED_PLANAR", "CLOSEDPLANAR_XOR"})
_PARSE_ERRORS = (InvalidDicomError, OSError, ValueError, EOFError, KeyError, IndexError, TypeError, struct.error)


class ReadCode(str, enum.Enum):
    """Codes of the findings only the RTSTRUCT reader reports.

    Facts other doors report too (a duplicate ROI name, an empty ROI) use their
    :class:`~OARContourLib.finding_codes.FindingCode` through ``read_finding``, which holds the
    reader's severity and the reason it may differ from the export's.
    """

    NOT_RTSTRUCT = "NOT_RTSTRUCT"
    FILE_TRUNCATED = "FILE_TRUNCATED"
    DICOM_VALUE_INVALID = "DICOM_VALUE_INVALID"
    MISSING_FRAME_OF_REFERENCE = "MISSING_FRAME_OF_REFERENCE"
    FRAME_OF_REFERENCE_MISMATCH = "FRAME_OF_REFERENCE_MISMATCH"
    MISSING_REFERENCED_SERIES = "MISSING_REFERENCED_SERIES"
    REFERENCED_SERIES_MISMATCH = "REFERENCED_SERIES_MISMATCH"
    MISSING_ROI_NUMBER = "MISSING_ROI_NUMBER"
    DUPLICATE_ROI_NUMBER = "DUPLICATE_ROI_NUMBER"
    UNKNOWN_ROI_NUMBER = "UNKNOWN_ROI_NUMBER"
    INVALID_COLOR = "INVALID_COLOR"
    UNSUPPORTED_CONTOUR_TYPE = "UNSUPPORTED_CONTOUR_TYPE"
    INVALID_CONTOUR_DATA = "INVALID_CONTOUR_DATA"
    CONTOUR_NOT_PLANAR = "CONTOUR_NOT_PLANAR"
    CONTOUR_BETWEEN_SLICES = "CONTOUR_BETWEEN_SLICES"
    CONTOUR_OUTSIDE_CT = "CONTOUR_OUTSIDE_CT"
    CONTOUR_CLIPPED = "CONTOUR_CLIPPED"
    REFERENCED_IMAGE_MISMATCH = "REFERENCED_IMAGE_MISMATCH"


def finding(code: ReadCode, message: str, *, roi_name: str | None = None, hint: str = "",
            severity: Severity = Severity.WARNING) -> Finding:
    """A reader finding (warning unless ``severity`` says otherwise)."""
    return Finding(code.value, severity, message, roi_name=roi_name, hint=hint)


@dataclass(frozen=True)
class ContourItem:
    """One CLOSED_PLANAR contour: ``(n, 3)`` LPS points and the image UIDs it references."""

    points_lps: np.ndarray
    referenced_sop_instance_uids: tuple[str, ...]


@dataclass
class RoiDefinition:
    """An ROI as the file defines it, with its area contours and what was wrong with them."""

    number: int
    name: str
    frame_of_reference_uid: str = ""
    generation_algorithm: str = ""
    roi_type: str = ""
    color: tuple[int, int, int] | None = None
    contours: list[ContourItem] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class ParsedStructureSet:
    """Everything the reader needs from the file, independent of any CT."""

    label: str
    sop_instance_uid: str
    frame_of_reference_uids: tuple[str, ...]
    referenced_series_uids: tuple[str, ...]
    rois: tuple[RoiDefinition, ...]
    findings: tuple[Finding, ...]


def parse_rtstruct(path: str | Path) -> ParsedStructureSet:
    """Read ``path`` and collect its ROIs and closed planar contours.

    Parameters
    ----------
    path
        An RTSTRUCT file (a Part 10 file, or a bare dataset without preamble).

    Returns
    -------
    ParsedStructureSet
        ROIs in StructureSetROISequence order with names, types, colours, contours in LPS and
        warning findings for every vendor quirk met.

    Raises
    ------
    InputError
        The file is missing, unreadable, or not an RT Structure Set.
    """
    dataset = read_dataset(Path(path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parsed = _parse(dataset)
    quirks = _warning_findings(caught)
    return ParsedStructureSet(parsed.label, parsed.sop_instance_uid, parsed.frame_of_reference_uids,
                              parsed.referenced_series_uids, parsed.rois, quirks + parsed.findings)


def read_dataset(path: Path) -> Dataset:
    """The dataset of an RTSTRUCT file; :class:`InputError` for anything else."""
    if not path.exists():
        raise InputError(f"RTSTRUCT file not found: {path}", hint="Check the path of the structure set file.",
                         code=ReadCode.NOT_RTSTRUCT.value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a non-DICOM file read with force=True warns about nonsense
        try:
            open_regular(path).close()  # a FIFO or device would block the read
            dataset = _dcmread(path)
            identity = (_text(dataset, "SOPClassUID"), _text(dataset, "Modality"))
        except _PARSE_ERRORS as exc:
            raise InputError(f"{path.name} is not a readable DICOM file: {exc}",
                             hint="Give the RTSTRUCT file (modality RTSTRUCT) exported by the planning system.",
                             code=ReadCode.NOT_RTSTRUCT.value) from exc
    if RT_STRUCTURE_SET_STORAGE not in identity and "RTSTRUCT" not in identity:
        what = f"modality '{identity[1]}'" if identity[1] else "not an RT Structure Set"
        raise InputError(f"{path.name} is not an RTSTRUCT ({what}, SOP Class '{identity[0]}').",
                         hint="Give the structure set file (modality RTSTRUCT), not a CT, plan or dose file.",
                         code=ReadCode.NOT_RTSTRUCT.value)
    cut = truncation_problem(path)
    if cut:
        raise InputError(f"{path.name} is truncated: {cut}; ROIs after the cut would be lost.",
                         hint="Copy or export the structure set again.", code=ReadCode.FILE_TRUNCATED.value)
    return dataset


def _dcmread(path: Path) -> Dataset:
    try:
        return pydicom.dcmread(path)
    except InvalidDicomError:
        # Some exporters write bare datasets without the 128-byte preamble and 'DICM'.
        return pydicom.dcmread(path, force=True)


def _parse(ds: Dataset) -> ParsedStructureSet:
    findings: list[Finding] = []
    rois = _roi_definitions(ds, findings)
    _add_observations(ds, rois, findings)
    _add_contours(ds, rois, findings)
    for roi in rois.values():
        if not roi.contours and not roi.findings:
            roi.findings.append(FindingCode.EMPTY_ROI.read_finding(f"ROI '{roi.name}' has no contours.", roi.name))
    frames, series = _references(ds)
    return ParsedStructureSet(_text(ds, "StructureSetLabel"), _text(ds, "SOPInstanceUID"), frames, series,
                              tuple(rois.values()), tuple(findings))


def _roi_definitions(ds: Dataset, findings: list[Finding]) -> dict[int, RoiDefinition]:
    rois: dict[int, RoiDefinition] = {}
    for index, item in enumerate(_sequence(ds, "StructureSetROISequence"), start=1):
        number = _integer(item, "ROINumber")
        name = _text(item, "ROIName")
        if number is None:
            findings.append(finding(ReadCode.MISSING_ROI_NUMBER, f"StructureSetROISequence item {index} ('{name}') "
                                    "has no valid ROI Number; skipped.", roi_name=name or None))
            continue
        if number in rois:
            findings.append(finding(ReadCode.DUPLICATE_ROI_NUMBER, f"ROI Number {number} is used twice "
                                    f"('{rois[number].name}' and '{name}'); the second is skipped.", roi_name=name))
            continue
        rois[number] = RoiDefinition(number, name or f"ROI {number}", _text(item, "ReferencedFrameOfReferenceUID"),
                                     _text(item, "ROIGenerationAlgorithm"))
    _check_duplicate_names(rois.values(), findings)
    return rois


def _check_duplicate_names(rois: Iterable[RoiDefinition], findings: list[Finding]) -> None:
    seen: dict[str, RoiDefinition] = {}
    for roi in rois:
        other = seen.setdefault(name_key(roi.name), roi)
        if other is not roi:
            findings.append(FindingCode.DUPLICATE_ROI_NAME.read_finding(
                f"ROIs {other.number} and {roi.number} are both named '{roi.name}' (ignoring case).", roi.name))


def _add_observations(ds: Dataset, rois: dict[int, RoiDefinition], findings: list[Finding]) -> None:
    for item in _sequence(ds, "RTROIObservationsSequence"):
        number = _integer(item, "ReferencedROINumber")
        roi = rois.get(number) if number is not None else None
        if roi is None:
            findings.append(finding(ReadCode.UNKNOWN_ROI_NUMBER, f"An RT ROI Observation refers to ROI Number {number}, "
                                    "which StructureSetROISequence does not define; ignored."))
        elif not roi.roi_type:
            roi.roi_type = _text(item, "RTROIInterpretedType").upper()


def _add_contours(ds: Dataset, rois: dict[int, RoiDefinition], findings: list[Finding]) -> None:
    for item in _sequence(ds, "ROIContourSequence"):
        number = _integer(item, "ReferencedROINumber")
        roi = rois.get(number) if number is not None else None
        if roi is None:
            findings.append(finding(ReadCode.UNKNOWN_ROI_NUMBER, f"An ROI Contour item refers to ROI Number {number}, "
                                    "which StructureSetROISequence does not define; its contours are ignored."))
            continue
        roi.color = _color(item, roi)
        ignored: dict[str, int] = {}
        invalid = 0
        for kind, points, image_uids in _area_contours(item):
            if kind not in AREA_TYPES:
                ignored[kind] = ignored.get(kind, 0) + 1
            elif points is None:
                invalid += 1
            else:
                roi.contours.append(ContourItem(points, image_uids()))
        _contour_findings(roi, ignored, invalid)


def _area_contours(item: Dataset) -> Iterator[tuple[str, np.ndarray | None, Callable[[], tuple[str, ...]]]]:
    """(geometric type, points, image UIDs on demand) of each contour of an ROI Contour item.

    Points are read only for area contours and UIDs only for usable ones, as pydicom would convert
    (and warn about) nothing else. Read from the encoded items when that is safe (:mod:`.encoded_contours`).
    """
    encoded = encoded_contours(item)
    if encoded is not None:
        for contour in encoded:
            kind = contour.geometric_type or "CLOSED_PLANAR"
            points = _points(contour.contour_data) if kind in AREA_TYPES else None
            yield kind, points, partial(tuple, contour.image_uids)
        return
    for dataset in _sequence(item, "ContourSequence"):
        kind = _text(dataset, "ContourGeometricType").upper() or "CLOSED_PLANAR"
        points = contour_points(dataset) if kind in AREA_TYPES else None
        yield kind, points, partial(_image_uids, dataset)


def _contour_findings(roi: RoiDefinition, ignored: dict[str, int], invalid: int) -> None:
    if ignored:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(ignored.items()))
        roi.findings.append(finding(ReadCode.UNSUPPORTED_CONTOUR_TYPE, f"ROI '{roi.name}': ignored {kinds} "
                                    "contour(s); only closed planar contours enclose voxels.", roi_name=roi.name))
    if invalid:
        roi.findings.append(finding(ReadCode.INVALID_CONTOUR_DATA, f"ROI '{roi.name}': skipped {invalid} contour(s) "
                                    "with unreadable Contour Data or fewer than 3 points.", roi_name=roi.name,
                                    hint="Re-export the structure set from the TPS."))


def contour_points(contour: Dataset) -> np.ndarray | None:
    """``(n, 3)`` float64 LPS points of a contour item, or None if unusable (< 3 finite points)."""
    return _usable(_contour_values(contour))


def _points(contour_data: bytes | None) -> np.ndarray | None:
    """As :func:`contour_points`, from the Contour Data bytes as stored."""
    return _usable(None if contour_data is None else _ds_values(contour_data))


def _usable(values: np.ndarray | None) -> np.ndarray | None:
    if values is None or len(values) < 9:
        return None
    points = values[: len(values) // 3 * 3].reshape(-1, 3)
    if not np.isfinite(points).all():
        return None
    return points


def _contour_values(contour: Dataset) -> np.ndarray | None:
    element = contour.get_item(CONTOUR_DATA)
    if element is None:
        return None
    raw = element.value
    try:
        if isinstance(raw, bytes):
            return _ds_values(raw)
        return np.asarray(contour.ContourData, dtype=np.float64).ravel()
    except (ValueError, TypeError):
        return None


def _ds_values(raw: bytes) -> np.ndarray | None:
    """The numbers of a DS value as stored; None when one is not a number."""
    try:
        # Parsing the DS text directly is ~15x faster than pydicom's DSfloat list.
        return np.array(raw.strip(b" \x00").split(b"\\"), dtype=np.float64)
    except (ValueError, TypeError):
        return None


def _image_uids(contour: Dataset) -> tuple[str, ...]:
    return tuple(uid for uid in (_text(item, "ReferencedSOPInstanceUID")
                                 for item in _sequence(contour, "ContourImageSequence")) if uid)


def _color(item: Dataset, roi: RoiDefinition) -> tuple[int, int, int] | None:
    if "ROIDisplayColor" not in item:
        return None
    try:
        values = [int(round(float(v))) for v in item.ROIDisplayColor]
    except (ValueError, TypeError):
        values = []
    if len(values) != 3 or not all(0 <= v <= 255 for v in values):
        roi.findings.append(finding(ReadCode.INVALID_COLOR, f"ROI '{roi.name}': ROI Display Color is not three "
                                    "integers 0-255; no colour is used.", roi_name=roi.name))
        return None
    return values[0], values[1], values[2]


def _references(ds: Dataset) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Frame of Reference UIDs and referenced Series UIDs of the structure set, in file order."""
    frames: list[str] = []
    series: list[str] = []
    for frame in _sequence(ds, "ReferencedFrameOfReferenceSequence"):
        frames.append(_text(frame, "FrameOfReferenceUID"))
        for study in _sequence(frame, "RTReferencedStudySequence"):
            series.extend(_text(s, "SeriesInstanceUID") for s in _sequence(study, "RTReferencedSeriesSequence"))
    frames.append(_text(ds, "FrameOfReferenceUID"))  # not in the IOD, but Eclipse writes it
    return _unique(frames), _unique(series)


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _sequence(ds: Dataset, keyword: str) -> list[Dataset]:
    try:
        value = ds.get(keyword)
        return list(value) if value is not None else []
    except _PARSE_ERRORS as exc:
        warnings.warn(f"{keyword} cannot be read: {exc}", UserWarning, stacklevel=2)
        return []


def _text(ds: Dataset, keyword: str) -> str:
    try:
        value: Any = ds.get(keyword)
    except _PARSE_ERRORS as exc:
        warnings.warn(f"{keyword} cannot be read: {exc}", UserWarning, stacklevel=2)
        return ""
    return "" if value is None else str(value).strip()


def _integer(ds: Dataset, keyword: str) -> int | None:
    text = _text(ds, keyword)
    try:
        return int(float(text)) if text else None
    except ValueError:
        return None


def _warning_findings(caught: list[warnings.WarningMessage]) -> tuple[Finding, ...]:
    """pydicom's validation warnings (over-long values and the like) as one finding each."""
    messages = dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, UserWarning))
    for message in messages:
        logger.debug("DICOM value warning: %s", message)
    return tuple(finding(ReadCode.DICOM_VALUE_INVALID, f"Non-conformant value in the RTSTRUCT: {m}",
                         hint="Read anyway; fix it in the exporting system if a TPS rejects the file.")
                 for m in messages)
