"""Contour Sequence encoded straight to explicit-VR little-endian bytes.

An RTSTRUCT of 100+ structures holds tens of thousands of contour items; building them as pydicom
Datasets and letting pydicom encode them costs seconds. Each item has the same five elements, so we
encode them directly (PS3.5 §7.1.2 and §7.5) and hand pydicom the finished sequence value as a raw
element, which it writes unchanged.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from ..ct.model import CTVolume
from .contour_data import PatientContour

#: VRs whose explicit-VR header has 2 reserved bytes and a 32-bit length.
LONG_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}
ITEM = b"\xfe\xff\x00\xe0"


def element(group: int, elem: int, vr: str, value: bytes) -> bytes:
    """One explicit-VR little-endian data element (value already padded to even length)."""
    tag = struct.pack("<HH", group, elem) + vr.encode("ascii")
    if vr in LONG_VRS:
        return tag + b"\x00\x00" + struct.pack("<I", len(value)) + value
    return tag + struct.pack("<H", len(value)) + value


def item(content: bytes) -> bytes:
    return ITEM + struct.pack("<I", len(content)) + content


def text(value: str, pad: bytes = b" ") -> bytes:
    data = value.encode("ascii")
    return data + pad if len(data) % 2 else data


def image_reference_items(ct: CTVolume) -> list[bytes]:
    """The Contour Image Sequence value for each CT slice, encoded once."""
    return [item(element(0x0008, 0x1150, "UI", text(s.sop_class_uid, b"\x00"))
                 + element(0x0008, 0x1155, "UI", text(s.sop_instance_uid, b"\x00"))) for s in ct.slices]


def contour_sequence_value(contours: Sequence[PatientContour], image_items: Sequence[bytes]) -> bytes:
    """The value of Contour Sequence (3006,0040): one item per contour, in order."""
    closed_planar = element(0x3006, 0x0042, "CS", text("CLOSED_PLANAR"))
    parts = []
    for number, contour in enumerate(contours, start=1):
        parts.append(item(
            element(0x3006, 0x0016, "SQ", image_items[contour.slice_index])
            + closed_planar
            + element(0x3006, 0x0046, "IS", text(str(contour.point_count)))
            + element(0x3006, 0x0048, "IS", text(str(number)))
            + element(0x3006, 0x0050, "DS", text(contour.contour_data))))
    return b"".join(parts)
