"""Structure naming: AAPM TG-263 names, our aliases, default colours and types, validation.

Data (CSV files in ``Resources/Naming``, each with its source and licence; see the README there):

* ``tg263_names.csv``: the 717 rows of the 2017 TG-263 worksheet, cleaned (kind ``official`` or
  ``template``), plus newer HL7 mCODE names (kind ``official_unconfirmed``);
* ``aliases.csv``: OARContour's own aliases (``Oesophagus`` → ``Esophagus``, ``Parotid Gland`` →
  ``Parotid_{side}``);
* ``structure_defaults.csv``: colour and RT ROI Interpreted Type of every name;
* ``totalsegmentator_to_tg263.csv``: TotalSegmentator class → TG-263 name (with ``+`` unions);
* ``site_templates.csv``: the structures of the HN, Brain, Thorax, Breast, Abdomen and pelvis sites.

Code:

* :func:`load_tables` → :class:`NamingTables` (cached; a broken file names its file and line);
* :func:`validate_name`, :func:`check_unique`, :func:`is_valid_compound`: the TG-263 rules and a TPS
  profile's limits, as :class:`~OARContourLib.findings.Finding` lists;
* :func:`parse_compound`: the parts of a compound name (PRV, ``~``, ``^``, ``-``, ``z``, targets);
* :mod:`.resolve` (``suggest``) and :mod:`.overrides` turn clinical names into TG-263 names; they
  are imported on first use (``from OARContourLib.naming import suggest``).

Nothing here imports Slicer or Qt.
"""

from __future__ import annotations

from typing import Any

from .entries import SIDE_PLACEHOLDER, UNION
from .grammar import CompoundName, Operand, parse_compound
from .tables import (
    Alias,
    NamingTables,
    StructureDefault,
    TemplateEntry,
    TG263Entry,
    TSMapping,
    clear_cache,
    load_tables,
)
from .validate import check_unique, is_valid_compound, validate_name

_LAZY = {"suggest": ".resolve", "Suggestion": ".resolve", "load_overrides": ".overrides", "Overrides": ".overrides"}

__all__ = ["SIDE_PLACEHOLDER", "UNION", "Alias", "CompoundName", "NamingTables", "Operand", "StructureDefault",
           "TG263Entry", "TSMapping", "TemplateEntry", "check_unique", "clear_cache", "is_valid_compound",
           "load_tables", "parse_compound", "validate_name", *_LAZY]


def __getattr__(name: str) -> Any:
    # The resolver is larger and not needed to load or validate names; import it on first use.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
