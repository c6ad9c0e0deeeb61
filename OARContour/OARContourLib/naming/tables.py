"""The naming tables: TG-263 names, our aliases, structure defaults, TotalSegmentator map, site templates.

All five are CSV data files in ``Resources/Naming`` (each opens with its source and licence; see
``Resources/Naming/README.md``). :func:`load_tables` reads and checks them once and caches the
result; a broken file raises ``OARContourError`` with code ``BAD_RESOURCE`` naming the file and line.

Names are exact-case strings throughout. ``kind`` and ``status`` values are the vocabularies of
:mod:`.entries`; composite TotalSegmentator rows join classes with ``+`` (``kidney_right+kidney_left``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from ..errors import InputError
from ..resources import resource_path
from ..rtstruct.model import RoiType
from .entries import (
    OFFICIAL,
    SIDE_PLACEHOLDER,
    TEMPLATE,
    TS_CONSTRUCTED,
    UNCONFIRMED,
    UNION,
    Alias,
    Color,
    StructureDefault,
    TemplateEntry,
    TG263Entry,
    TSMapping,
)
from .grammar import LATERAL, parse_compound
from .table_files import read_table
from .table_parsers import (
    ALIASES_COLUMNS,
    DEFAULTS_COLUMNS,
    NAMES_COLUMNS,
    TEMPLATES_COLUMNS,
    TS_COLUMNS,
    parse_aliases,
    parse_defaults,
    parse_names,
    parse_templates,
    parse_ts_map,
)

logger = logging.getLogger(__name__)

NAMES_FILE = "tg263_names.csv"
ALIASES_FILE = "aliases.csv"
DEFAULTS_FILE = "structure_defaults.csv"
TS_FILE = "totalsegmentator_to_tg263.csv"
TEMPLATES_FILE = "site_templates.csv"
FILES = (NAMES_FILE, ALIASES_FILE, DEFAULTS_FILE, TS_FILE, TEMPLATES_FILE)

#: Helpers not used for dose evaluation (``z``/``_`` prefix) are drawn grey and typed CONTROL.
HELPER_COLOR: Color = (128, 128, 128)
TARGET_ROI_TYPES = {"GTV": RoiType.GTV, "IGTV": RoiType.GTV, "CTV": RoiType.CTV, "ICTV": RoiType.CTV,
                    "ITV": RoiType.CTV, "PTV": RoiType.PTV}
#: Target types without a row of their own take the colour of this row.
TARGET_COLOR_ROW = {"IGTV": "ITV", "ICTV": "ITV"}
COMPOUND = "compound"


@dataclass(frozen=True)
class NamingTables:
    """Everything the naming code needs, loaded from the data files.

    Attributes
    ----------
    names
        Primary name (exact case) → entry; includes templates and the newer mCODE names.
    reverse
        Reverse-order name → primary name.
    aliases
        Our own aliases, in file order.
    defaults
        Name → default colour and RT ROI Interpreted Type (every non-template and constructed name).
    ts_map
        TotalSegmentator class (or union) → TG-263 name, in file order.
    templates
        Site template id (``HN``, ``Thorax`` ...) → its structures.
    constructed
        Names built to the TG-263 rules for TotalSegmentator classes; they are not TG-263 names.
    """

    names: dict[str, TG263Entry]
    reverse: dict[str, str]
    aliases: tuple[Alias, ...]
    defaults: dict[str, StructureDefault]
    ts_map: tuple[TSMapping, ...]
    templates: dict[str, tuple[TemplateEntry, ...]]
    constructed: frozenset[str] = frozenset()

    def is_official(self, name: str) -> bool:
        """True for a TG-263 primary name (2017 worksheet or newer mCODE name), exact case; not templates."""
        entry = self.names.get(name)
        return entry is not None and entry.kind in (OFFICIAL, UNCONFIRMED)

    def is_template(self, name: str) -> bool:
        """True for a worksheet pattern with placeholders (``SpinalCord_PRVxx``): never a structure name."""
        entry = self.names.get(name)
        return entry is not None and entry.kind == TEMPLATE

    def is_constructed(self, name: str) -> bool:
        """True for a TG-263-style name we built for a TotalSegmentator class (not official)."""
        return name in self.constructed

    def entry(self, name: str) -> TG263Entry | None:
        """The entry of a primary or reverse-order name (exact case)."""
        primary = self.primary_name(name)
        return self.names[primary] if primary else None

    def primary_name(self, name: str) -> str | None:
        """``name`` itself when primary, the primary of a reverse-order name, else None."""
        if name in self.names:
            return name
        return self.reverse.get(name)

    def canonical_case(self, name: str) -> str | None:
        """The known name (primary, reverse or constructed) equal to ``name`` ignoring case, in its exact case."""
        return self._folded.get(name.casefold())

    def ts_mapping(self, ts_task: str, ts_class: str) -> TSMapping | None:
        """The row of a TotalSegmentator class (or ``+`` union) of a task."""
        return self._ts_index.get((ts_task, ts_class))

    def composites(self, ts_task: str) -> tuple[TSMapping, ...]:
        """The union rows of a task (``Lung_L`` from its lobes, ``Lungs`` from all five ...)."""
        return tuple(m for m in self.ts_map if m.ts_task == ts_task and m.is_composite)

    def template(self, template_id: str) -> tuple[TemplateEntry, ...]:
        """The structures of a site template; empty for an unknown id (see :attr:`templates` keys)."""
        return self.templates.get(template_id, ())

    def require_template(self, template_id: str) -> tuple[TemplateEntry, ...]:
        """The structures of a site template.

        Raises
        ------
        InputError
            Unknown template id; the hint lists the known ones.
        """
        entries = self.template(template_id)
        if not entries:
            raise InputError(f"Unknown site template '{template_id}'.",
                             hint=f"Use one of: {', '.join(self.templates)}.")
        return entries

    def default_for(self, name: str) -> StructureDefault | None:
        """Default colour and RT ROI Interpreted Type of a name, including TG-263 compounds.

        Table names (primary, reverse-order, constructed) use their row. Compounds derive theirs:
        ``SpinalCord_PRV05`` / ``OpticNrv_PRV03_L`` → AVOIDANCE in a lighter root colour;
        ``Lung~_L``, ``Lungs^Ex``, ``Parotid_L-PTV`` → the root's; ``PTV_7000``, ``GTVp`` → the
        target type's; ``zRing_PTV`` → CONTROL in grey. None when the root is unknown.
        """
        direct = self._direct_default(name)
        if direct is not None:
            return direct
        compound = parse_compound(name)
        if compound.is_helper:
            return StructureDefault(name, HELPER_COLOR, RoiType.CONTROL, "oarcontour_fixed", COMPOUND)
        first = compound.first
        if first.target_type is not None:
            return self._target_default(name, first.target_type)
        root = self._direct_default(first.base) or self._side_free_default(first.base)
        if root is None:
            return None
        if first.prv_margin is not None:
            return StructureDefault(name, lighten(root.color), RoiType.AVOIDANCE, "inherited", COMPOUND)
        roi_type = root.roi_type
        if len(compound.operands) > 1 and roi_type is RoiType.EXTERNAL:
            roi_type = RoiType.AVOIDANCE  # Body-PTV: only one ROI of a structure set may be EXTERNAL
        return StructureDefault(name, root.color, roi_type, "inherited", COMPOUND)

    def _direct_default(self, name: str) -> StructureDefault | None:
        primary = self.primary_name(name) or name
        return self.defaults.get(primary)

    def _side_free_default(self, base: str) -> StructureDefault | None:
        head, _, side = base.rpartition("_")
        return self.defaults.get(head) if side in LATERAL and head else None

    def _target_default(self, name: str, target_type: str) -> StructureDefault:
        row = self.defaults.get(TARGET_COLOR_ROW.get(target_type, target_type))
        color = row.color if row is not None else (255, 0, 0)
        return StructureDefault(name, color, TARGET_ROI_TYPES[target_type], "inherited", COMPOUND)

    @cached_property
    def _folded(self) -> dict[str, str]:
        folded = {n.casefold(): n for n in self.constructed}
        folded.update((r.casefold(), r) for r in self.reverse)
        folded.update((n.casefold(), n) for n, e in self.names.items() if e.kind != TEMPLATE)
        return folded

    @cached_property
    def _ts_index(self) -> dict[tuple[str, str], TSMapping]:
        return {(m.ts_task, m.ts_class): m for m in self.ts_map}


def lighten(color: Color, fraction: float = 0.5) -> Color:
    """``color`` moved ``fraction`` of the way to white (how PRVs are drawn next to their organ)."""
    r, g, b = (round(c + (255 - c) * fraction) for c in color)
    return r, g, b


def load_tables(directory: str | Path | None = None) -> NamingTables:
    """Load and check the naming tables (cached per folder).

    Parameters
    ----------
    directory
        A folder holding the five files (tests and sites with their own copy); default the
        ``Resources/Naming`` folder of this installation.

    Returns
    -------
    NamingTables

    Raises
    ------
    OARContourError
        ``BAD_RESOURCE`` when a file is missing or malformed; the message names the file and line.
    """
    folder = Path(directory).resolve() if directory is not None else resource_path("Naming")
    return _load(str(folder))


def clear_cache() -> None:
    """Forget loaded tables (after a site edits its copy of the files)."""
    _load.cache_clear()


@lru_cache(maxsize=4)
def _load(folder: str) -> NamingTables:
    root = Path(folder)
    names, reverse = parse_names(read_table(root / NAMES_FILE, NAMES_COLUMNS))
    ts_map = parse_ts_map(read_table(root / TS_FILE, TS_COLUMNS), names)
    constructed = frozenset(m.tg263_name for m in ts_map if m.status == TS_CONSTRUCTED and m.tg263_name)
    aliases = parse_aliases(read_table(root / ALIASES_FILE, ALIASES_COLUMNS), names, constructed)
    defaults = parse_defaults(read_table(root / DEFAULTS_FILE, DEFAULTS_COLUMNS), names, constructed)
    templates = parse_templates(read_table(root / TEMPLATES_FILE, TEMPLATES_COLUMNS), defaults, ts_map)
    logger.debug("naming tables from %s: %d names, %d aliases, %d TotalSegmentator rows, %d templates",
                 root.name, len(names), len(aliases), len(ts_map), len(templates))
    return NamingTables(names, reverse, aliases, defaults, ts_map, templates, constructed)


__all__ = ["ALIASES_FILE", "DEFAULTS_FILE", "FILES", "NAMES_FILE", "SIDE_PLACEHOLDER", "TEMPLATES_FILE", "TS_FILE",
           "UNION", "Alias", "NamingTables", "StructureDefault", "TG263Entry", "TSMapping", "TemplateEntry",
           "clear_cache", "lighten", "load_tables"]
