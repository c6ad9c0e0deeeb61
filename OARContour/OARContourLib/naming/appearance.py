"""How a structure looks in an RTSTRUCT: RT ROI type, colour, generation algorithm, description, code.

The one place that decides it, for every door (CLI export, the Slicer Logic, autoseg, derive, the
report, institution overrides), so the same segments give the same RT ROI Observations whichever
way they leave. Precedence, highest first:

1. what the segment itself says: its tags (``segment_tags``) and its own colour;
2. the institution's override table (``naming/overrides.py``) for the name;
3. the naming tables' default for the name, TG-263 compounds included (``NamingTables.default_for``);
4. rules on the name alone (:func:`OARContourLib.rtstruct.roi_types.default_roi_type`: ``Outline`` is
   EXTERNAL, ``ptv high`` PTV, ``Ring 2cm`` AVOIDANCE ...) and a colour from the fixed palette
   (``Resources/Naming/palette.csv``) chosen by a checksum of the name, never by position or ``hash()``.

The coded concept is the SNOMED CT code of the name's TG-263 row (``sct_code``), with the
semantic tag ``(body structure)`` dropped as DICOM code meanings do; none for names without one or
whose meaning exceeds the 64 characters of a Code Meaning (LO).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .. import segment_tags
from ..resources import resource_path
from ..rtstruct.model import CodedConcept, GenerationAlgorithm, RoiType
from ..rtstruct.roi_types import default_roi_type
from .table_files import parse_rgb, read_table
from .tables import NamingTables, load_tables

if TYPE_CHECKING:
    from .overrides import Overrides

Color = tuple[int, int, int]

PALETTE_FILE = "palette.csv"
#: Code Meaning (0008,0104) is LO.
CODE_MEANING_MAX_CHARS = 64
SNOMED_SCHEME = "SCT"
_SEMANTIC_TAG = " (body structure)"


@dataclass(frozen=True)
class Appearance:
    """What an RTSTRUCT says about one ROI besides its contours."""

    name: str
    roi_type: RoiType
    color: Color
    algorithm: GenerationAlgorithm
    description: str
    code: CodedConcept | None
    #: True when the naming tables or the overrides know the name (False: rules and palette decided).
    known: bool = True

    def to_dict(self) -> dict[str, Any]:
        code = None if self.code is None else {"value": self.code.value, "scheme": self.code.scheme,
                                               "meaning": self.code.meaning}
        return {"name": self.name, "roi_type": self.roi_type.value, "color": list(self.color),
                "algorithm": self.algorithm.value, "description": self.description, "code": code,
                "known": self.known}


def appearance(name: str, tags: Mapping[str, str] | None = None, overrides: Overrides | None = None, *,
               color: Color | None = None, tables: NamingTables | None = None) -> Appearance:
    """Type, colour, algorithm, description and SNOMED CT code of the structure ``name``.

    Parameters
    ----------
    name
        The ROI name as it will be written.
    tags
        The segment's tags (``segment_tags``); an unset tag falls through to the next source.
    overrides
        An institution's override table; its colour and type win over the tables' defaults.
    color
        The segment's own colour (a ``.seg.nrrd`` or Slicer segment); wins over every default.
    tables
        The naming tables (default: the shipped ones).
    """
    tags = tags or {}
    tables = tables or load_tables()
    default = tables.default_for(name)
    entry = overrides.entry_for(name) if overrides is not None else None
    rule_type = (entry.roi_type if entry else None) or (default.roi_type if default else None) or default_roi_type(name)
    chosen = color or (entry.color if entry else None) or (default.color if default else None) or palette_color(name)
    return Appearance(name, segment_tags.roi_type_from(tags, rule_type), tuple(int(c) for c in chosen),  # type: ignore[arg-type]
                      segment_tags.algorithm_from(tags), segment_tags.description_from(tags), coded_concept(name, tables),
                      known=default is not None or entry is not None)


def palette_color(name: str) -> Color:
    """The palette colour of a name no table knows: fixed per name (CRC-32 of the case-folded name)."""
    palette = _palette()
    return palette[zlib.crc32(name.casefold().encode("utf-8")) % len(palette)]


def coded_concept(name: str, tables: NamingTables | None = None) -> CodedConcept | None:
    """The SNOMED CT concept of a TG-263 name (``SpinalCord`` → 2748008 ``Spinal cord structure``), else None."""
    tables = tables or load_tables()
    entry = tables.names.get(tables.primary_name(name) or name)
    if entry is None or not entry.sct_code or not entry.sct_meaning:
        return None
    meaning = entry.sct_meaning.removesuffix(_SEMANTIC_TAG)
    if len(meaning) > CODE_MEANING_MAX_CHARS:
        return None
    return CodedConcept(entry.sct_code, SNOMED_SCHEME, meaning)


@lru_cache(maxsize=1)
def _palette() -> tuple[Color, ...]:
    table = read_table(resource_path("Naming") / PALETTE_FILE, ("color_r", "color_g", "color_b"))
    return tuple(parse_rgb(row) for row in table.rows)


__all__ = ["Appearance", "PALETTE_FILE", "appearance", "coded_concept", "palette_color"]
