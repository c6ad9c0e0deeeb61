"""What every rule reads: the RTSTRUCT dataset, the CT, the profile, and both parsed once.

ROIs are matched to their contours and observations by ROI Number, never by position in the
sequences (readers that pair by index mislabel RayStation files, which omit empty ROIs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from ...ct.model import CTVolume
from ...mask_block import MaskBlock
from ..encoded_contours import (
    CONTOUR_DATA,
    CONTOUR_GEOMETRIC_TYPE,
    CONTOUR_IMAGE_SEQUENCE,
    CONTOUR_SEQUENCE,
    NUMBER_OF_CONTOUR_POINTS,
    REFERENCED_SOP_CLASS_UID,
    REFERENCED_SOP_INSTANCE_UID,
)
from ..profiles import TPSProfile
from ..rasterize import rasterize_packed_block
from ..raw_items import RawItem, raw_items
from .ct_frame import ContourPlane, CTFrame
from .elements import EncodedElement, encoded_value, split_values, strip_padding, text_codec, walk


@dataclass(frozen=True)
class RoiItem:
    """One StructureSetROISequence item; ``label`` names it in messages even without a name."""

    number: int | None
    name: str
    item: Dataset

    @property
    def label(self) -> str:
        return self.name if self.name.strip() else f"#{self.number}"


@dataclass(frozen=True)
class ContourItem:
    """One ContourSequence item, with its ContourData kept as encoded bytes and parsed points.

    ``position`` counts from 1 within its ROI; ``points`` is ``(n, 3)`` LPS millimetres, or None
    when ContourData is absent or not numeric (``values`` then still holds what could be split).
    ``image_uids`` lists (SOP Class, SOP Instance) of its ContourImageSequence, None when absent.
    """

    roi_number: int | None
    roi_name: str
    position: int
    roi_contour_count: int
    geometric_type: str
    declared_points: int | None
    contour_data: bytes | None
    values: tuple[bytes, ...]
    points: np.ndarray | None
    image_uids: tuple[tuple[str, str], ...] | None


class VerificationContext:
    """Inputs of one verification plus views derived from them on first use."""

    def __init__(self, dataset: Dataset, ct: CTVolume, profile: TPSProfile,
                 source_masks: Mapping[str, np.ndarray | MaskBlock] | None = None) -> None:
        self.dataset = dataset
        self.ct = ct
        self.profile = profile
        self.source_masks = source_masks
        self.frame = CTFrame(ct)
        self._blocks: dict[str, MaskBlock] = {}
        self._raw_sequences: dict[int, tuple[object, list[RawItem] | None]] = {}

    @cached_property
    def codec(self) -> str:
        """Python codec of the file's Specific Character Set, for character counts of names."""
        return text_codec(self.dataset)

    @cached_property
    def elements(self) -> tuple[EncodedElement, ...]:
        """Every non-sequence element of the dataset and its items, with its encoded value."""
        return tuple(walk(self.dataset, read_raw=self.raw_sequence))

    def raw_sequence(self, element: object) -> list[RawItem] | None:
        """:func:`.raw_items.raw_items` of a sequence element, read once: contours and the walk both need it."""
        key = id(element)  # the element itself is kept with its items, so its id is not reused
        if key not in self._raw_sequences:
            self._raw_sequences[key] = (element, raw_items(element))
        return self._raw_sequences[key][1]

    @cached_property
    def rois(self) -> tuple[RoiItem, ...]:
        return tuple(RoiItem(int_of(item, "ROINumber"), text_of(item, "ROIName", self.codec), item)
                     for item in self.dataset.get("StructureSetROISequence") or [])

    @cached_property
    def roi_labels(self) -> dict[int, str]:
        """ROI Number -> name (the first ROI with that number, for messages)."""
        labels: dict[int, str] = {}
        for roi in self.rois:
            if roi.number is not None:
                labels.setdefault(roi.number, roi.label)
        return labels

    @cached_property
    def roi_contours(self) -> tuple[Dataset, ...]:
        return tuple(self.dataset.get("ROIContourSequence") or [])

    @cached_property
    def observations(self) -> tuple[Dataset, ...]:
        return tuple(self.dataset.get("RTROIObservationsSequence") or [])

    @cached_property
    def contours(self) -> tuple[ContourItem, ...]:
        """Every contour of every ROI Contour item, in file order."""
        found: list[ContourItem] = []
        for roi_contour in self.roi_contours:
            number = int_of(roi_contour, "ReferencedROINumber")
            name = self.roi_labels.get(number, f"#{number}") if number is not None else "#?"
            found.extend(_contour_items(roi_contour, number, name, self.raw_sequence))
        return tuple(found)

    @cached_property
    def planes(self) -> tuple[ContourPlane | None, ...]:
        """Plane of each contour (aligned with :attr:`contours`); None without readable points."""
        return tuple(self.frame.plane_of(c.points) if c.points is not None and len(c.points) else None
                     for c in self.contours)

    def contour_slice(self, index: int) -> int | None:
        """Slice index of contour ``index`` when its plane is a CT slice plane."""
        plane = self.planes[index]
        return None if plane is None else plane.slice_index

    def roi_block(self, roi_name: str) -> MaskBlock:
        """The block of the CLOSED_PLANAR contours of the ROIs named ``roi_name`` (even-odd) and its offset.

        Contours on no CT slice plane are left out (other rules report them); no full-grid array.
        """
        if roi_name not in self._blocks:
            chosen: list[tuple[int, np.ndarray]] = []
            for n, c in enumerate(self.contours):
                k = self.contour_slice(n)
                if c.roi_name == roi_name and c.geometric_type == "CLOSED_PLANAR" and c.points is not None \
                        and len(c.points) >= 3 and k is not None:
                    chosen.append((k, self.frame.to_index(c.points)[:, :2]))
            offsets = np.r_[0, np.cumsum([len(p) for _, p in chosen])].astype(np.int64)
            slice_k = np.array([k for k, _ in chosen], dtype=np.int64)
            packed = np.concatenate([p for _, p in chosen]) if chosen else np.zeros((0, 2))
            self._blocks[roi_name] = MaskBlock(*rasterize_packed_block(packed, offsets, slice_k,
                                                                       self.ct.geometry.shape))
        return self._blocks[roi_name]

    def missing_images(self, contour: ContourItem) -> list[str]:
        """SOP Instance UIDs the contour's ContourImageSequence names that are not CT slices."""
        return [uid for _, uid in contour.image_uids or () if uid not in self.frame.index_of_uid]

    def contour_counts(self) -> dict[int | None, int]:
        """Number of contours per ROI Number."""
        counts: dict[int | None, int] = {}
        for contour in self.contours:
            counts[contour.roi_number] = counts.get(contour.roi_number, 0) + 1
        return counts


def _contour_items(roi_contour: Dataset, roi_number: int | None, roi_name: str,
                   read_raw: Callable[[object], list[RawItem] | None]) -> list[ContourItem]:
    """The contours of one ROI Contour item, read from the encoded bytes when pydicom left them so."""
    raw = read_raw(roi_contour.get_item(CONTOUR_SEQUENCE)) if _is_raw_sequence(roi_contour, CONTOUR_SEQUENCE) else None
    if raw is not None and all(item[CONTOUR_IMAGE_SEQUENCE].items is not None for item in raw
                               if CONTOUR_IMAGE_SEQUENCE in item):
        return [_raw_contour_item(item, roi_number, roi_name, position, len(raw))
                for position, item in enumerate(raw, start=1)]
    items = roi_contour.get("ContourSequence") or []
    return [_contour_item(item, roi_number, roi_name, position, len(items))
            for position, item in enumerate(items, start=1)]


def _is_raw_sequence(dataset: Dataset, tag: int) -> bool:
    element = dataset.get_item(tag) if tag in dataset else None
    return isinstance(element, RawDataElement) and element.VR in ("SQ", None)  # None: implicit VR


def _contour_item(item: Dataset, roi_number: int | None, roi_name: str, position: int, count: int) -> ContourItem:
    return _make_contour_item(roi_number, roi_name, position, count, text_of(item, "ContourGeometricType"),
                              text_of(item, "NumberOfContourPoints"), encoded_value(item, CONTOUR_DATA),
                              _image_uids(item))


def _raw_contour_item(item: RawItem, roi_number: int | None, roi_name: str, position: int,
                      count: int) -> ContourItem:
    images = item.get(CONTOUR_IMAGE_SEQUENCE)
    image_uids = None if images is None else tuple(
        (_uid(image, REFERENCED_SOP_CLASS_UID), _uid(image, REFERENCED_SOP_INSTANCE_UID))
        for image in images.items or ())
    return _make_contour_item(roi_number, roi_name, position, count, _raw_text(item, CONTOUR_GEOMETRIC_TYPE),
                              _raw_text(item, NUMBER_OF_CONTOUR_POINTS), _raw_value(item, CONTOUR_DATA), image_uids)


def _make_contour_item(roi_number: int | None, roi_name: str, position: int, count: int, geometric_type: str,
                       declared_points: str, data: bytes | None,
                       image_uids: tuple[tuple[str, str], ...] | None) -> ContourItem:
    values = tuple(split_values(data)) if data else ()
    return ContourItem(
        roi_number=roi_number, roi_name=roi_name, position=position, roi_contour_count=count,
        geometric_type=geometric_type.strip(), declared_points=_int(declared_points),
        contour_data=data, values=values, points=_points(values), image_uids=image_uids,
    )


def _raw_value(item: RawItem, tag: int) -> bytes | None:
    """As :func:`.elements.encoded_value` gives it: without the padding byte, None when absent."""
    return strip_padding(item[tag][1]) if tag in item else None


def _raw_text(item: RawItem, tag: int) -> str:
    value = _raw_value(item, tag)
    return "" if value is None else value.decode("latin_1", errors="replace")


def _points(values: tuple[bytes, ...]) -> np.ndarray | None:
    if not values or len(values) % 3:
        return None
    try:
        points = np.array(values).astype(np.float64).reshape(-1, 3)
    except ValueError:
        return None
    return points if np.isfinite(points).all() else None


def _image_uids(item: Dataset) -> tuple[tuple[str, str], ...] | None:
    if CONTOUR_IMAGE_SEQUENCE not in item:
        return None
    raw = raw_items(item.get_item(CONTOUR_IMAGE_SEQUENCE))
    if raw is not None:  # still encoded: read the two UIDs without building Datasets (see raw_items)
        return tuple((_uid(image, REFERENCED_SOP_CLASS_UID), _uid(image, REFERENCED_SOP_INSTANCE_UID)) for image in raw)
    return tuple((str(image.get("ReferencedSOPClassUID") or ""), str(image.get("ReferencedSOPInstanceUID") or ""))
                 for image in item.ContourImageSequence or [])


def _uid(item: RawItem, tag: int) -> str:
    """A UI value as pydicom gives it: decoded, without trailing NULs or spaces."""
    return item[tag][1].decode("latin_1").rstrip("\0 ") if tag in item else ""


def text_of(dataset: Dataset, keyword: str, codec: str = "latin_1") -> str:
    """Decoded text of a string element as stored ('' when absent); never raises on bad values."""
    value = encoded_value(dataset, tag_for_keyword(keyword) or 0)
    return "" if value is None else value.decode(codec, errors="replace")


def int_of(dataset: Dataset, keyword: str) -> int | None:
    """An IS element as an int, or None when absent, empty or not an integer."""
    return _int(text_of(dataset, keyword))


def _int(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None
