"""The structure names a file holds, read without voxels: RTSTRUCT, mask folder, label image, ``.seg.nrrd``.

Names are returned exactly as stored (not trimmed), so a name checker sees leading spaces and
empty names too. Mask folders give their file stems, label images their label table (``--labels``
or TotalSegmentator's embedded one), Slicer segmentations their segment names.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..mask_files import MASK_SUFFIXES, label_names, structure_name_from_file
from ..rtstruct.parse import read_dataset


class SourceKind(str, enum.Enum):
    RTSTRUCT = "rtstruct"
    MASK_FOLDER = "mask-folder"
    SEG_NRRD = "seg.nrrd"
    LABEL_IMAGE = "label-image"


@dataclass(frozen=True)
class NamedStructure:
    """One structure of a file: its name as stored and, for an RTSTRUCT, its ROI Number."""

    name: str
    roi_number: int | None = None


def structure_names(path: str | Path, labels: str | Path | None = None,
                    ) -> tuple[SourceKind, list[NamedStructure]]:
    """The kind of file and the structure names in it.

    Raises
    ------
    InputError
        Missing path, unreadable file, not an RTSTRUCT or segmentation, no mask files in a folder.
    """
    source = Path(path).expanduser()
    if not source.exists():
        raise InputError(f"Not found: {source}", hint="Give an RTSTRUCT file, a .seg.nrrd, a label image or a "
                         "folder of masks.")
    if source.is_dir():
        return SourceKind.MASK_FOLDER, _folder_names(source)
    lower = source.name.lower()
    if lower.endswith(".seg.nrrd"):
        return SourceKind.SEG_NRRD, _segment_names(source)
    if lower.endswith(MASK_SUFFIXES):
        return SourceKind.LABEL_IMAGE, _label_image_names(source, labels)
    return SourceKind.RTSTRUCT, _rtstruct_names(source)


def _rtstruct_names(path: Path) -> list[NamedStructure]:
    names = []
    for item in read_dataset(path).get("StructureSetROISequence") or []:
        try:
            number: int | None = int(item.get("ROINumber"))
        except (TypeError, ValueError):
            number = None
        names.append(NamedStructure(str(item.get("ROIName") or ""), number))
    return names


def _folder_names(folder: Path) -> list[NamedStructure]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(MASK_SUFFIXES))
    if not files:
        raise InputError(f"No mask files ({', '.join(MASK_SUFFIXES)}) in {folder}.",
                         hint="The file stem of each mask is its structure name.")
    return [NamedStructure(structure_name_from_file(p)) for p in files]


def _segment_names(path: Path) -> list[NamedStructure]:
    try:
        import slicerio
    except ImportError as exc:
        raise InputError("Reading .seg.nrrd needs the slicerio package.", hint="pip install slicerio") from exc
    try:
        segmentation = slicerio.read_segmentation(str(path), skip_voxels=True)
    except Exception as exc:  # slicerio raises plain exceptions for malformed headers
        raise InputError(f"Cannot read {path.name} as a Slicer segmentation: {exc}",
                         hint="Save it again from Slicer's Segmentations module.") from exc
    return [NamedStructure(str(segment.get("name", ""))) for segment in segmentation.get("segments", [])]


def _label_image_names(path: Path, labels: str | Path | None) -> list[NamedStructure]:
    try:
        table = label_names(path, labels)
    except InputError:
        if labels is not None:
            raise
        return [NamedStructure(structure_name_from_file(path))]  # a single binary mask, named by its file
    return [NamedStructure(name) for _, name in sorted(table.items())]
