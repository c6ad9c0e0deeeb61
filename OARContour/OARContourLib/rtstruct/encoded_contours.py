"""The contours of an ROI Contour item as the reader needs them, read straight from their encoding.

Building a pydicom Dataset for every Contour Sequence item and its Contour Image Sequence was most
of the time :mod:`.parse` spent on a large structure set. :func:`encoded_contours` gives the same
three values (geometric type, Contour Data bytes, referenced image UIDs) from the raw items of
:mod:`.raw_items`, but only when pydicom would have read them without a word: each text must be a
valid CS or UI value, which pydicom's validation accepts silently. Otherwise it returns None and the
reader lets pydicom convert the items, so its warnings (reported as findings) stay the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from .raw_items import RawItem, raw_items

#: The tags of a Contour Sequence item, for every reader of encoded contours (this one and the verifier's).
CONTOUR_SEQUENCE = 0x30060040
CONTOUR_IMAGE_SEQUENCE = 0x30060016
CONTOUR_GEOMETRIC_TYPE = 0x30060042
NUMBER_OF_CONTOUR_POINTS = 0x30060046
CONTOUR_DATA = 0x30060050
REFERENCED_SOP_CLASS_UID = 0x00081150
REFERENCED_SOP_INSTANCE_UID = 0x00081155

#: A CS value pydicom reads as the text before its padding, without a validation warning.
_PLAIN_CS = re.compile(rb"([A-Z0-9_]{1,16}) ?")
#: A UI value (PS3.5 §9.1) of at most 64 characters, with its padding byte if any.
_PLAIN_UI = re.compile(rb"((?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*)[\x00 ]?")
_MAX_UI = 64


@dataclass(frozen=True)
class EncodedContour:
    """One Contour Sequence item: its values as :mod:`.parse` would have read them through pydicom.

    ``geometric_type`` is '' when absent; ``contour_data`` the value bytes as stored (None when the
    element is absent); ``image_uids`` the non-empty Referenced SOP Instance UIDs in order.
    """

    geometric_type: str
    contour_data: bytes | None
    image_uids: tuple[str, ...]


def encoded_contours(roi_contour: Dataset) -> list[EncodedContour] | None:
    """The contours of ``roi_contour`` read from bytes, or None when pydicom must read them."""
    element = roi_contour.get_item(CONTOUR_SEQUENCE) if CONTOUR_SEQUENCE in roi_contour else None
    if not isinstance(element, RawDataElement) or element.VR not in ("SQ", None):  # None: implicit VR
        return None
    items = raw_items(element)
    if items is None:
        return None
    contours = []
    for item in items:
        contour = _contour(item)
        if contour is None:
            return None
        contours.append(contour)
    return contours


def _contour(item: RawItem) -> EncodedContour | None:
    kind = ""
    if CONTOUR_GEOMETRIC_TYPE in item:
        vr, value, _ = item[CONTOUR_GEOMETRIC_TYPE]
        match = _PLAIN_CS.fullmatch(value) if vr == "CS" else None
        if match is None:
            return None
        kind = match.group(1).decode("ascii")
    uids = _image_uids(item)
    if uids is None:
        return None
    data = item.get(CONTOUR_DATA)
    return EncodedContour(kind, None if data is None else data[1], uids)


def _image_uids(item: RawItem) -> tuple[str, ...] | None:
    if CONTOUR_IMAGE_SEQUENCE not in item:
        return ()
    images = item[CONTOUR_IMAGE_SEQUENCE].items
    if images is None:
        return None
    uids = []
    for image in images:
        if REFERENCED_SOP_INSTANCE_UID not in image:
            continue
        uid_vr, uid, _ = image[REFERENCED_SOP_INSTANCE_UID]
        match = _PLAIN_UI.fullmatch(uid) if uid_vr == "UI" else None
        if match is None or len(match.group(1)) > _MAX_UI:
            return None
        if match.group(1):
            uids.append(match.group(1).decode("ascii"))
    return tuple(uids)
