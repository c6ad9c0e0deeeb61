"""Is a DICOM file complete? A walk over its element lengths, without interpreting any value.

pydicom reads a file cut inside a defined-length sequence without complaint: the ROIs after the
cut are simply missing, and an RTSTRUCT cut at 60 % looks like a smaller, complete one. Every
element and item declares its length, so a file is complete when each declared length fits inside
the file and every undefined-length sequence and item reaches its delimiter. Deflated files are
not walked (their lengths refer to the inflated stream).
"""

from __future__ import annotations

import struct
from pathlib import Path

from ..ct.scan import open_regular

_LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"})
_UNDEFINED = 0xFFFFFFFF
_ITEM, _ITEM_END, _SEQUENCE_END = 0xE000, 0xE00D, 0xE0DD
_IMPLICIT_LE = "1.2.840.10008.1.2"
_EXPLICIT_BE = "1.2.840.10008.1.2.2"
_DEFLATED = ("1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.8.1")
#: Deeper nesting than this is not a structure set; stop walking rather than recurse without end.
_MAX_DEPTH = 32


class _Truncated(Exception):
    """The file ends before a declared length or a delimiter."""


class _Malformed(Exception):
    """The byte stream is not what the walk expects; left to the DICOM reader to judge."""


def truncation_problem(path: Path) -> str | None:
    """Why ``path`` is cut off (a sentence), or None when every declared length fits in the file."""
    with open_regular(path) as handle:
        data = handle.read()
    start = 132 if data[128:132] == b"DICM" else 0
    try:
        position, syntax = _meta(data, start)
        if syntax in _DEFLATED:
            return None
        explicit = syntax != _IMPLICIT_LE if syntax else data[position + 4:position + 6].isalpha()
        walker = _Walker(data, explicit, "<" if syntax != _EXPLICIT_BE else ">")
        walker.elements(position, depth=0)
    except _Truncated as exc:
        return f"{exc} ({len(data)} bytes): the file was cut off"
    except (_Malformed, struct.error):
        return None
    return None


def _meta(data: bytes, position: int) -> tuple[int, str]:
    """Skip the File Meta group (always explicit VR little endian); return where the data set starts
    and its Transfer Syntax UID ('' without a meta group)."""
    syntax = ""
    while position + 8 <= len(data) and struct.unpack_from("<H", data, position)[0] == 0x0002:
        element = struct.unpack_from("<H", data, position + 2)[0]
        vr = data[position + 4:position + 6]
        if vr in _LONG_VRS:
            length, header = struct.unpack_from("<L", data, position + 8)[0], 12
        else:
            length, header = struct.unpack_from("<H", data, position + 6)[0], 8
        value = data[position + header:position + header + length]
        if len(value) < length:
            raise _Truncated(f"the file meta information ends early at byte {len(data)}")
        if element == 0x0010:
            syntax = value.rstrip(b"\x00 ").decode("ascii", "replace")
        position += header + length
    return position, syntax


class _Walker:
    def __init__(self, data: bytes, explicit: bool, order: str) -> None:
        self.data, self.explicit, self.order = data, explicit, order

    def _unpack(self, fmt: str, position: int) -> int:
        if position + struct.calcsize(self.order + fmt) > len(self.data):
            raise _Truncated(f"the file ends inside an element header at byte {position}")
        return int(struct.unpack_from(self.order + fmt, self.data, position)[0])

    def elements(self, position: int, depth: int, nested: bool = False) -> int:
        """Walk data elements from ``position``; inside an undefined-length item, up to its delimiter."""
        if depth > _MAX_DEPTH:
            raise _Malformed("too deep")
        while position < len(self.data):
            group, element = self._unpack("H", position), self._unpack("H", position + 2)
            if group == 0xFFFE:
                if nested and element == _ITEM_END:
                    return position + 8
                raise _Malformed(f"delimiter ({group:04X},{element:04X}) outside a sequence")
            length, header = self._length(position)
            position += header
            if length == _UNDEFINED:
                position = self.items(position, depth + 1)
            elif position + length > len(self.data):
                raise _Truncated(f"element ({group:04X},{element:04X}) declares {length} bytes at byte {position}, "
                                 "but the file ends first")
            else:
                position += length
        if nested:
            raise _Truncated("an item of a sequence has no end")
        return position

    def _length(self, position: int) -> tuple[int, int]:
        if not self.explicit:
            return self._unpack("L", position + 4), 8
        vr = self.data[position + 4:position + 6]
        if vr in _LONG_VRS:
            return self._unpack("L", position + 8), 12
        return self._unpack("H", position + 6), 8

    def items(self, position: int, depth: int) -> int:
        """Walk the items of an undefined-length sequence up to its delimiter."""
        while True:
            group, element = self._unpack("H", position), self._unpack("H", position + 2)
            length = self._unpack("L", position + 4)
            position += 8
            if (group, element) == (0xFFFE, _SEQUENCE_END):
                return position
            if (group, element) != (0xFFFE, _ITEM):
                raise _Malformed(f"({group:04X},{element:04X}) inside a sequence")
            if length == _UNDEFINED:
                position = self.elements(position, depth + 1, nested=True)
            elif position + length > len(self.data):
                raise _Truncated(f"a sequence item declares {length} bytes at byte {position}, but the file ends first")
            else:
                position += length
