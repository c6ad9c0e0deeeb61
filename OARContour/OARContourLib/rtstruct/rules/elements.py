"""Encoded values of data elements, read without converting them (as they are in the file).

Length limits (PS3.5 Table 6.2-1) apply to the encoded value, so the verifier looks at the bytes:
a file read by pydicom keeps elements as ``RawDataElement`` until accessed, and
:meth:`pydicom.dataset.Dataset.get_item` returns them unconverted. An element already converted
(a dataset built in memory) is encoded the way pydicom would write it: ``str`` of each value,
which is a DS number's ``original_string`` when it has one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from pydicom.charset import convert_encodings
from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag, Tag

from ..raw_items import RawItem, raw_items


@dataclass(frozen=True)
class EncodedElement:
    """One element found while walking a dataset: where it is, its VR and its encoded value."""

    path: str
    tag: BaseTag
    vr: str
    value: bytes


def encoded_value(dataset: Dataset, tag: int) -> bytes | None:
    """The value field of ``tag`` without padding, or None when the element is absent."""
    if tag not in dataset:
        return None
    element = dataset.get_item(tag)
    if isinstance(element, RawDataElement):
        return strip_padding(element.value or b"")
    return strip_padding(_encode(element))


def split_values(value: bytes) -> list[bytes]:
    """The values of a multi-valued string element (backslash-separated)."""
    return value.split(b"\\") if value else []


def element_vr(dataset: Dataset, tag: int) -> str:
    """VR of an element as stored, or from the data dictionary (implicit VR files); '' if unknown."""
    element = dataset.get_item(tag)
    vr = element.VR if element is not None else None
    if vr:
        return str(vr)
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return ""


def walk(dataset: Dataset, prefix: str = "",
         read_raw: Callable[[object], list[RawItem] | None] = raw_items) -> Iterator[EncodedElement]:
    """Every non-sequence element of ``dataset`` and its sequence items, depth first, in tag order.

    ``read_raw`` reads a still-encoded sequence (:func:`.raw_items.raw_items`, or a caller's cache of it).
    """
    for tag in list(dataset.keys()):
        name = f"{prefix}{_name(tag)}"
        vr = element_vr(dataset, tag)
        if vr == "SQ":
            raw = read_raw(dataset.get_item(tag))
            if raw is not None:  # still encoded: walked without building Datasets (see raw_items)
                yield from _walk_raw(raw, name)
                continue
            for number, item in enumerate(dataset[tag].value or [], start=1):
                yield from walk(item, f"{name}[{number}].", read_raw)
            continue
        value = encoded_value(dataset, tag)
        if vr and value is not None:
            yield EncodedElement(name, Tag(tag), vr, value)


def _walk_raw(items: list[RawItem], name: str) -> Iterator[EncodedElement]:
    for number, item in enumerate(items, start=1):
        for tag, (vr, value, nested) in item.items():
            path = f"{name}[{number}].{_name(tag)}"
            if nested is not None:
                yield from _walk_raw(nested, path)
            else:
                yield EncodedElement(path, BaseTag(tag), vr, strip_padding(value))


@lru_cache(maxsize=1024)
def _name(tag: int) -> str:
    """Keyword of ``tag`` or its "(gggg,eeee)" form; the same few tags recur in every contour item."""
    return keyword_for_tag(tag) or str(Tag(tag))


def text_codec(dataset: Dataset) -> str:
    """Python codec of the dataset's first Specific Character Set (for character counts)."""
    try:
        return convert_encodings(dataset.get("SpecificCharacterSet") or "ISO_IR 6")[0]
    except (LookupError, ValueError):
        return "latin_1"


def _encode(element: DataElement) -> bytes:
    value = element.value
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    values = list(value) if isinstance(value, (MultiValue, list, tuple)) else [value]
    return "\\".join("" if v is None else str(v) for v in values).encode("utf-8", errors="replace")


def strip_padding(value: bytes) -> bytes:
    # A value field of even length ends with one space (or NUL for UI) when the text is odd.
    return value[:-1] if value.endswith((b" ", b"\x00")) else value
