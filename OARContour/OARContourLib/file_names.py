"""Names that come from data (ROI names, mask file names) made safe as file stems and as names.

A structure name read from an RTSTRUCT may be 300 characters long, hold ``/``, ``..``, a newline
or characters a file system refuses; a mask file name may hold bytes that are not UTF-8. The one
function :func:`file_stems` turns names into stems that are safe, short enough and unique;
:func:`clean_name` turns a file name into a structure name that can be printed and written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from .output_paths import NAME_MAX

_UNSAFE = re.compile(r"[^A-Za-z0-9_.~^!+-]")
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(1, 10)), *(f"LPT{n}" for n in range(1, 10))}
#: Room kept for a uniqueness suffix such as ``_123``.
_UNIQUE_ROOM = 8


def clean_name(text: str) -> str:
    """``text`` with undecodable bytes (surrogate escapes) and control characters replaced by ``_``.

    Returns
    -------
    str
        Printable, encodable as UTF-8, stripped; empty when nothing printable is left.
    """
    kept = []
    for char in text:
        if 0xD800 <= ord(char) <= 0xDFFF or unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            kept.append("_")
        else:
            kept.append(char)
    return "".join(kept).strip()


def is_clean(text: str) -> bool:
    """True when :func:`clean_name` would leave ``text`` unchanged."""
    return clean_name(text) == text


def file_stems(names: Sequence[str], suffix: str = "") -> list[str]:
    """File-name-safe stems, unique ignoring case (``Heart``, ``heart`` → ``Heart``, ``heart_2``).

    Only ASCII letters, digits and ``_.~^!+-`` are kept (others become ``_``), leading dots are
    dropped (no ``.``, ``..`` or hidden files), Windows device names get a ``_``, and each stem is
    cut so that stem plus ``suffix`` fits :data:`~.output_paths.NAME_MAX` bytes.
    """
    limit = NAME_MAX - len(suffix.encode()) - _UNIQUE_ROOM
    stems: list[str] = []
    taken: set[str] = set()
    for name in names:
        stem = (_UNSAFE.sub("_", clean_name(name)).lstrip(".") or "ROI")[:limit]
        stem = f"{stem}_" if stem.split(".")[0].upper() in _RESERVED else stem
        unique, count = stem, 1
        while unique.lower() in taken:
            count += 1
            unique = f"{stem}_{count}"
        taken.add(unique.lower())
        stems.append(unique)
    return stems
