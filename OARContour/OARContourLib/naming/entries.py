"""One record per row of the naming data files, and the vocabularies their columns use.

The records are re-exported by :mod:`.tables`, which loads them; import them from there.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..rtstruct.model import RoiType

#: ``tg263_names.csv`` kind: a worksheet name, a worksheet pattern with x/xx/xxxx placeholders, or a
#: newer name from the HL7 mCODE table whose provenance is unconfirmed.
OFFICIAL, TEMPLATE, UNCONFIRMED = "official", "template", "official_unconfirmed"
NAME_KINDS = (OFFICIAL, TEMPLATE, UNCONFIRMED)
TARGET_TYPES = ("Anatomic", "Non-Anatomic", "Derived", "PRV", "Target", "Surgical")
ALIAS_KINDS = ("english", "abbreviation", "spelling", "word_order", "totalsegmentator", "typo", "other")
#: ``totalsegmentator_to_tg263.csv`` status (see the file's comment lines).
TS_OFFICIAL, TS_APPROXIMATE, TS_CONSTRUCTED, TS_NONE = "official", "approximate", "constructed", "no_equivalent"
TS_STATUSES = (TS_OFFICIAL, TS_APPROXIMATE, TS_CONSTRUCTED, TS_NONE)
COLOR_SOURCES = ("slicer_totalsegmentator", "slicer_terminology", "totalsegmentator", "inherited",
                 "oarcontour_palette", "oarcontour_fixed")
NAME_STATUSES = (OFFICIAL, UNCONFIRMED, "constructed")
TEMPLATE_SOURCES = ("totalsegmentator", "classical", "manual")
#: Marks a lateral alias target (``Parotid_{side}``); the resolver puts ``L`` or ``R`` there.
SIDE_PLACEHOLDER = "{side}"
#: ``ts_class`` of a composite row joins the classes of its union with this character.
UNION = "+"

Color = tuple[int, int, int]


@dataclass(frozen=True)
class TG263Entry:
    """A TG-263 name (``tg263_names.csv``); ``kind`` is one of :data:`NAME_KINDS`."""

    primary_name: str
    reverse_name: str
    target_type: str
    major_category: str
    minor_category: str
    anatomic_group: str
    description: str
    fma_id: str
    kind: str
    sct_code: str = ""
    sct_meaning: str = ""
    sct_qualifiers: str = ""
    note: str = ""

    @property
    def is_template(self) -> bool:
        return self.kind == TEMPLATE

    @property
    def confirmed(self) -> bool:
        """True for the 2017 worksheet names, False for the newer mCODE names (and templates)."""
        return self.kind == OFFICIAL


@dataclass(frozen=True)
class Alias:
    """Our own alias (``aliases.csv``) of a TG-263 name, possibly lateral (``Parotid_{side}``)."""

    alias: str
    tg263_name: str
    kind: str
    note: str = ""

    @property
    def lateral(self) -> bool:
        return SIDE_PLACEHOLDER in self.tg263_name

    def targets(self) -> tuple[str, ...]:
        """The names this alias can stand for: both sides of a lateral target, else the target."""
        if not self.lateral:
            return (self.tg263_name,)
        return tuple(self.tg263_name.replace(SIDE_PLACEHOLDER, side) for side in ("L", "R"))


@dataclass(frozen=True)
class StructureDefault:
    """Default colour (RGB 0-255) and RT ROI Interpreted Type of a name (``structure_defaults.csv``)."""

    tg263_name: str
    color: Color
    roi_type: RoiType
    color_source: str = ""
    name_status: str = OFFICIAL


@dataclass(frozen=True)
class TSMapping:
    """A TotalSegmentator class (or a ``+`` union of classes) and its TG-263 name.

    ``tg263_name`` is None for ``no_equivalent``; ``merge_target`` names the composite (a row of the
    same task) this label is part of, e.g. ``lung_upper_lobe_left`` → ``Lung_L`` → ``Lungs``.
    """

    ts_task: str
    ts_class: str
    tg263_name: str | None
    status: str
    merge_target: str | None
    note: str = ""

    @property
    def is_composite(self) -> bool:
        return UNION in self.ts_class

    @property
    def components(self) -> tuple[str, ...]:
        """The TotalSegmentator classes of this row (one, or the members of a union)."""
        return tuple(self.ts_class.split(UNION))


@dataclass(frozen=True)
class TemplateEntry:
    """One structure of a site template (``site_templates.csv``)."""

    template: str
    tg263_name: str
    roi_type: RoiType
    color: Color
    source: str
    ts_task: str | None
    ts_classes: tuple[str, ...]
    required: bool
