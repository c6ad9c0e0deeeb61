"""One structure set to compare, from any source ``export`` and ``convert`` read, on the CT grid.

An RTSTRUCT is rasterised by :func:`~OARContourLib.rtstruct.read.read_rtstruct`; a ``.seg.nrrd``,
a folder of masks or a label image by :func:`~OARContourLib.mask_files.read_masks`. Masks are kept
as cropped blocks (:class:`~OARContourLib.mask_files.MaskInput`), so 20+ structures on a
512×512×150 CT stay small.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..ct.model import CTVolume
from ..errors import InputError
from ..findings import Finding
from ..mask_block import crop
from ..mask_files import MASK_SUFFIXES, read_masks
from ..mask_grid import MaskInput
from ..progress import ProgressCallback
from ..rtstruct.parse import ReadCode
from ..rtstruct.read import read_rtstruct


@dataclass(frozen=True)
class StructureSet:
    """The structures of one input, as cropped masks on the CT grid.

    ``frame_of_reference_uid`` is the RTSTRUCT's ("" for mask files, which carry none).
    """

    source: str
    structures: tuple[MaskInput, ...]
    frame_of_reference_uid: str = ""
    findings: tuple[Finding, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.structures)

    def structure(self, name: str) -> MaskInput:
        """The first structure called ``name`` (exact); KeyError if none."""
        return next(s for s in self.structures if s.name == name)


def is_rtstruct_path(path: Path) -> bool:
    """A file that is neither a segmentation nor a mask image is read as DICOM (an RTSTRUCT)."""
    name = path.name.lower()
    return path.is_file() and not name.endswith(".seg.nrrd") and not name.endswith(MASK_SUFFIXES)


def load_structure_set(source: str | Path, ct: CTVolume, progress: ProgressCallback | None = None) -> StructureSet:
    """Read an RTSTRUCT, a ``.seg.nrrd``, a mask folder or a label image onto ``ct``.

    Raises
    ------
    InputError
        Missing or unreadable input; an RTSTRUCT whose Frame of Reference is not the CT's (its
        contours belong to another scan, so any number computed would be meaningless).
    """
    path = Path(source).expanduser()
    if not path.exists():
        raise InputError(f"Structure set not found: {path}",
                         hint="Give an RTSTRUCT file, a .seg.nrrd or a folder of masks.")
    if not is_rtstruct_path(path):
        masks, findings = read_masks(path, ct.geometry)
        return StructureSet(str(path), tuple(masks), "", tuple(findings))
    contents = read_rtstruct(path, ct, progress)
    mismatch = [f for f in contents.findings if f.code == ReadCode.FRAME_OF_REFERENCE_MISMATCH.value and not f.roi_name]
    if mismatch:
        raise InputError(f"{path.name}: {mismatch[0].message}",
                         hint="Both structure sets must be drawn on the CT given with --ct (same Frame of Reference).",
                         code="FRAME_OF_REFERENCE_MISMATCH")
    structures = []
    for roi in contents.rois:
        block, offset = crop(roi.mask)
        structures.append(MaskInput(roi.name, block, offset, roi.color))
    return StructureSet(str(path), tuple(structures), contents.frame_of_reference_uid, contents.findings)


def check_same_frame(reference: StructureSet, test: StructureSet) -> None:
    """Two RTSTRUCTs that name different Frames of Reference cannot be compared.

    Raises
    ------
    InputError
        Both carry a Frame of Reference UID and they differ.
    """
    frames = (reference.frame_of_reference_uid, test.frame_of_reference_uid)
    if all(frames) and frames[0] != frames[1]:
        raise InputError(f"The structure sets lie on different Frames of Reference ({frames[0]} and {frames[1]}).",
                         hint="Compare structure sets drawn on the same CT.", code="FRAME_OF_REFERENCE_MISMATCH")
