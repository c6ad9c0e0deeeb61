"""What a review report shows, gathered once: the structures on the CT grid, every finding, the header.

Findings come from three places: reading the file onto the CT (skipped contours, vendor quirks),
the verifier (references, encoding, the planning-system profile) and QA (laterality, volumes,
outside the body). A problem two of them report with the same code and words is listed once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.errors import InvalidDicomError

from ..ct.model import CTVolume
from ..errors import InputError
from ..findings import Finding
from ..mask_block import MaskBlock
from ..naming.appearance import appearance
from ..progress import ProgressCallback, report, scaled
from ..qa import check_structures
from ..rtstruct.model import RoiType, Structure
from ..rtstruct.parse import ReadCode
from ..rtstruct.read import RoiMasks, StructureSetContents, read_rtstruct
from ..rtstruct.verify import verify_rtstruct
from .render import Color

logger = logging.getLogger(__name__)

HEADER_KEYWORDS = ("PatientName", "PatientID", "StudyDescription", "StudyDate", "StructureSetLabel",
                   "StructureSetDate", "Manufacturer", "ManufacturerModelName")


@dataclass(frozen=True)
class ReviewedStructure:
    """One ROI as the report shows it; ``mask`` is its bounding block on the CT grid, never the whole grid."""

    name: str
    roi_type: str
    color: Color
    mask: MaskBlock
    findings: tuple[Finding, ...]

    @property
    def lung_window(self) -> bool:
        return self.name.lower().startswith("lung")


@dataclass(frozen=True)
class ReviewContent:
    """Everything the page needs: header texts, the CT, structures and findings."""

    header: dict[str, str]
    ct: CTVolume
    structures: tuple[ReviewedStructure, ...]
    findings: tuple[Finding, ...]
    tps: str
    template: str | None

    @property
    def set_findings(self) -> tuple[Finding, ...]:
        """Findings of the structure set as a whole, or of ROIs the set does not contain."""
        names = {s.name for s in self.structures}
        return tuple(f for f in self.findings if f.roi_name not in names)


def collect(rtstruct_path: Path, ct: CTVolume, tps: str, template: str | None,
            progress: ProgressCallback | None = None) -> ReviewContent:
    """Read, verify and QA the structure set on ``ct``.

    Raises
    ------
    InputError
        The file is not a readable RTSTRUCT, it belongs to another scan (other Frame of Reference,
        or no contour on any slice of ``ct``), or ``tps``/``template`` is unknown.
    """
    contents = read_rtstruct(rtstruct_path, ct, scaled(progress, 0.0, 0.6))
    _check_belongs(contents, ct, rtstruct_path)
    report(progress, 0.6, "Verifying the RTSTRUCT")
    verified = verify_rtstruct(rtstruct_path, ct, tps)
    report(progress, 0.8, "Checking the structures")
    colors = [_color(roi) for roi in contents.rois]
    qa_input = [Structure(roi.name, roi.block, roi.offset_kji, color=color, roi_type=_roi_type(roi))
                for roi, color in zip(contents.rois, colors, strict=True)]
    qa_findings = check_structures(qa_input, ct, template=template, tps=tps)
    findings = _unique([*contents.findings, *verified.findings, *qa_findings])
    structures = tuple(ReviewedStructure(roi.name, roi.roi_type, color, MaskBlock(roi.block, roi.offset_kji),
                                         tuple(f for f in findings if f.roi_name == roi.name))
                       for roi, color in zip(contents.rois, colors, strict=True))
    report(progress, 1.0, f"Collected {len(structures)} structures and {len(findings)} findings")
    return ReviewContent(_header(rtstruct_path, ct), ct, structures, findings, tps, template)


def _check_belongs(contents: StructureSetContents, ct: CTVolume, path: Path) -> None:
    mismatch = next((f for f in contents.findings
                     if f.code == ReadCode.FRAME_OF_REFERENCE_MISMATCH.value and f.roi_name is None), None)
    if mismatch is not None:
        raise InputError(f"{path.name} does not belong to this CT: {mismatch.message}",
                         hint="Pass --ct the folder of the CT series the structures were drawn on.")
    placed = sum(roi.contour_count for roi in contents.rois)
    skipped = sum(roi.skipped_contour_count for roi in contents.rois)
    if skipped and not placed:
        raise InputError(f"None of the {skipped} contours of {path.name} lies on a slice of this CT "
                         f"({len(ct.slices)} slices).",
                         hint="Pass --ct the folder of the CT series the structures were drawn on.")


def _color(roi: RoiMasks) -> Color:
    """The ROI Display Color, else the colour an export would give the name."""
    return roi.color if roi.color is not None else appearance(roi.name).color


def _roi_type(roi: RoiMasks) -> RoiType:
    try:
        return RoiType(roi.roi_type)
    except ValueError:  # empty or a vendor's own term: QA treats it as the name suggests
        return appearance(roi.name).roi_type


def _unique(findings: list[Finding]) -> tuple[Finding, ...]:
    seen: dict[tuple[str, str | None, str], Finding] = {}
    for item in findings:
        seen.setdefault((item.code, item.roi_name, item.message), item)
    return tuple(seen.values())


def _header(path: Path, ct: CTVolume) -> dict[str, str]:
    """Patient, study and structure-set texts: the RTSTRUCT's values, the CT's where it has none."""
    try:
        dataset = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=list(HEADER_KEYWORDS))
    except (InvalidDicomError, OSError, EOFError, ValueError) as exc:  # read_rtstruct already read it once
        raise InputError(f"{path.name} cannot be read as DICOM ({exc}).", hint="Give a readable RTSTRUCT file.") from exc
    header = {keyword: str(dataset.get(keyword, "") or "") for keyword in HEADER_KEYWORDS}
    for keyword in ("PatientName", "PatientID", "StudyDescription", "StudyDate"):
        header[keyword] = header[keyword] or ct.reference.attributes.get(keyword, "")
    header["PatientPosition"] = ct.reference.attributes.get("PatientPosition", "")
    header["SeriesDescription"] = ct.reference.attributes.get("SeriesDescription", "")
    return header
