"""Items of a sequence still in its encoded form, read without building pydicom Datasets.

A structure set holds one ContourImageSequence per contour (thousands of one-item sequences);
pydicom turns each into a Sequence of Datasets when first touched, which is most of the time the
verifier spends. Its rules only need each item's elements as stored (tag, VR, value bytes), so a
sequence that pydicom left raw is read here directly. Only the simple, usual case is handled:
explicit VR little endian, items of plain elements (no nested sequence, no undefined-length
element); anything else returns None and the caller lets pydicom read it.
"""

from __future__ import annotations

import struct

from pydicom.dataelem import RawDataElement

ITEM = 0xFFFEE000
ITEM_END = 0xFFFEE00D
SEQUENCE_END = 0xFFFEE0DD
UNDEFINED = 0xFFFFFFFF
#: VRs whose explicit-VR header has two reserved bytes and a 4-byte length.
LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"})

#: One item: tag → (VR, value bytes as stored, padding included), in tag order.
RawItem = dict[int, tuple[str, bytes]]

_TAG_LENGTH = struct.Struct("<HHL")
_TAG = struct.Struct("<HH")
_SHORT = struct.Struct("<H")
_LONG = struct.Struct("<L")


def raw_items(element: object) -> list[RawItem] | None:
    """The items of a raw explicit-VR little-endian SQ element; None when pydicom must read it."""
    if not isinstance(element, RawDataElement) or element.is_implicit_VR or not element.is_little_endian:
        return None
    value = element.value or b""
    items: list[RawItem] = []
    position = 0
    while position + 8 <= len(value):
        group, number, length = _TAG_LENGTH.unpack_from(value, position)
        position += 8
        tag = group << 16 | number
        if tag == SEQUENCE_END:
            break
        if tag != ITEM:
            return None
        end = len(value) if length == UNDEFINED else position + length
        parsed = _item(value, position, end)
        if parsed is None:
            return None
        item, position = parsed
        items.append(dict(sorted(item.items())))
    return items


def _item(value: bytes, position: int, end: int) -> tuple[RawItem, int] | None:
    """The elements of one item from ``position`` to ``end`` (or its delimiter); None if not plain."""
    item: RawItem = {}
    while position + 8 <= end:
        group, number = _TAG.unpack_from(value, position)
        tag = group << 16 | number
        if tag == ITEM_END:
            return item, position + 8
        vr = value[position + 4: position + 6]
        if vr in LONG_VRS:
            (length,), start = _LONG.unpack_from(value, position + 8), position + 12
        else:
            (length,), start = _SHORT.unpack_from(value, position + 6), position + 8
        if vr == b"SQ" or length == UNDEFINED or start + length > end or not vr.isalpha():
            return None
        item[tag] = (vr.decode("ascii"), value[start: start + length])
        position = start + length
    return item, end
