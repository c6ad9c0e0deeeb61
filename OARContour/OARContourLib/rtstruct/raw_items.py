"""Items of a sequence still in its encoded form, read without building pydicom Datasets.

A structure set holds thousands of Contour Sequence items, each with a one-item Contour Image
Sequence; pydicom turns each into a Dataset when first touched, which was most of the time the
reader and the verifier spent. They only need each item's elements as stored (tag, VR, value
bytes), so a sequence that pydicom left raw is read here directly. Only little endian is handled
(in implicit VR an element's VR is the data dictionary's, as pydicom gives it); a sequence nested
in an item is read too, into :attr:`RawElement.items`. Anything unusual (an undefined length on a
non-sequence element, a VR pydicom would read differently, a private or ambiguous tag in implicit
VR, a value running past its item) makes :func:`raw_items` return None, and the caller lets
pydicom read the sequence.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from typing import NamedTuple

from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement

ITEM = 0xFFFEE000
ITEM_END = 0xFFFEE00D
SEQUENCE_END = 0xFFFEE0DD
UNDEFINED = 0xFFFFFFFF
#: VRs whose explicit-VR header has two reserved bytes and a 4-byte length.
LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"})



class RawElement(NamedTuple):
    """One element of a raw item: its VR, its value bytes as stored (padding included) and, for a
    sequence, its items (its value is then their encoding, delimiters of an undefined length left out)."""

    vr: str
    value: bytes
    items: list[dict[int, RawElement]] | None = None


#: One item: tag → element, in tag order.
RawItem = dict[int, RawElement]

_TAG_LENGTH = struct.Struct("<HHL")
_TAG = struct.Struct("<HH")
_SHORT = struct.Struct("<H")
_LONG = struct.Struct("<L")


def raw_items(element: object) -> list[RawItem] | None:
    """The items of a raw little-endian SQ element; None when pydicom must read it."""
    if not isinstance(element, RawDataElement) or not element.is_little_endian:
        return None
    if element.value is None and element.length not in (0, UNDEFINED):
        return None  # a value deferred by dcmread(defer_size=...): pydicom reads it from the file
    value = element.value or b""
    parsed = _items(value, 0, len(value), bool(element.is_implicit_VR))
    return None if parsed is None else parsed[0]


def _items(value: bytes, position: int, end: int, implicit: bool) -> tuple[list[RawItem], int] | None:
    """Items from ``position`` to ``end`` or a sequence delimiter; the items and where they stop."""
    items: list[RawItem] = []
    while position + 8 <= end:
        group, number, length = _TAG_LENGTH.unpack_from(value, position)
        position += 8
        tag = group << 16 | number
        if tag == SEQUENCE_END:
            return items, position - 8
        if tag != ITEM or (length != UNDEFINED and position + length > end):
            return None
        if implicit and position + 6 <= end and _looks_explicit(value[position + 4: position + 6]):
            return None  # pydicom would switch to explicit VR for this item
        parsed = _item(value, position, end if length == UNDEFINED else position + length, length == UNDEFINED,
                       implicit)
        if parsed is None:
            return None
        item, position = parsed
        items.append(dict(sorted(item.items())))
    return items, position


def _item(value: bytes, position: int, end: int, delimited: bool, implicit: bool) -> tuple[RawItem, int] | None:
    """The elements of one item from ``position`` to ``end`` (or its delimiter); None if not plain."""
    item: RawItem = {}
    while position + 8 <= end:
        group, number = _TAG.unpack_from(value, position)
        tag = group << 16 | number
        if tag == ITEM_END:
            return item, position + 8
        header = _implicit_header(value, position, tag) if implicit else _explicit_header(value, position)
        if header is None:
            return None
        vr, length, start = header
        read = _value_end(value, vr, start, length, end, implicit)
        if read is None:
            return None
        stop, nested = read
        item[tag] = RawElement(vr.decode("ascii"), value[start: stop], nested)
        position = stop + 8 if length == UNDEFINED else stop
    return (item, end) if not delimited else None


def _explicit_header(value: bytes, position: int) -> tuple[bytes, int, int] | None:
    """(VR, length, start of the value) of an explicit-VR element."""
    vr = value[position + 4: position + 6]
    if not _looks_explicit(vr):  # pydicom would take it as implicit VR
        return None
    if vr in LONG_VRS:
        return vr, _LONG.unpack_from(value, position + 8)[0], position + 12
    return vr, _SHORT.unpack_from(value, position + 6)[0], position + 8


def _implicit_header(value: bytes, position: int, tag: int) -> tuple[bytes, int, int] | None:
    """(VR from the data dictionary, length, start of the value) of an implicit-VR element."""
    vr = _dictionary_vr(tag)
    return None if vr is None else (vr, _LONG.unpack_from(value, position + 4)[0], position + 8)


@lru_cache(maxsize=512)
def _dictionary_vr(tag: int) -> bytes | None:
    """The one VR pydicom gives ``tag`` in implicit VR; None when it has none or several (then pydicom reads)."""
    try:
        vr = dictionary_VR(tag)
    except KeyError:
        return None
    return vr.encode("ascii") if len(vr) == 2 and vr != "UN" else None


def _looks_explicit(vr: bytes) -> bool:
    """What pydicom takes for an explicit VR: two upper-case letters."""
    return len(vr) == 2 and 0x40 < vr[0] < 0x5B and 0x40 < vr[1] < 0x5B


def _value_end(value: bytes, vr: bytes, start: int, length: int, end: int,
               implicit: bool) -> tuple[int, list[RawItem] | None] | None:
    """Where the value starting at ``start`` ends (at its sequence delimiter if any) and a sequence's
    items; None if unreadable."""
    if vr == b"SQ":
        nested = _items(value, start, end if length == UNDEFINED else start + length, implicit)
        if nested is None or (length != UNDEFINED and start + length > end):
            return None
        if length == UNDEFINED:
            return (nested[1], nested[0]) if _is_delimiter(value, nested[1], end) else None
        return start + length, nested[0]
    if length == UNDEFINED or start + length > end:
        return None
    return start + length, None


def _is_delimiter(value: bytes, position: int, end: int) -> bool:
    return position + 8 <= end and _TAG.unpack_from(value, position) == (0xFFFE, 0xE0DD)
