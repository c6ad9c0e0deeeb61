"""What the panel's combo boxes and structure checklist offer, read from the same tables the core uses.

The panel never hard-codes an engine, template or profile list: a site that edits
``site_templates.csv`` or a release that adds a TPS profile shows up here without a panel change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..autoseg.engines import REGISTRY, engine_for
from ..autoseg.selection import select_structures
from ..errors import InputError
from ..naming.tables import NamingTables, load_tables
from ..rtstruct.model import ExportEngine
from ..rtstruct.profiles import PROFILE_IDS, load_profile
from .slicerrt_export import slicerrt_available

BUILTIN_EXPORT = ExportEngine.BUILTIN.value
SLICERRT_EXPORT = ExportEngine.SLICERRT.value
EXPORT_ENGINES = tuple(e.value for e in ExportEngine)


@dataclass(frozen=True)
class Choice:
    """One entry of a combo box: the value passed to the Logic, its label, and why it is disabled."""

    value: str
    label: str
    available: bool = True
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "label": self.label, "available": self.available, "reason": self.reason}


@dataclass(frozen=True)
class StructureChoice:
    """One line of the structure checklist: checked by default when the engine can produce it."""

    name: str
    available: bool
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "available": self.available, "reason": self.reason}


@dataclass(frozen=True)
class PanelChoices:
    """Everything the panel's combo boxes list."""

    engines: tuple[Choice, ...]
    templates: tuple[Choice, ...]
    tps_profiles: tuple[Choice, ...]
    export_engines: tuple[Choice, ...]

    def to_dict(self) -> dict[str, Any]:
        return {key: [c.to_dict() for c in getattr(self, key)]
                for key in ("engines", "templates", "tps_profiles", "export_engines")}


def panel_choices(tables: NamingTables | None = None) -> PanelChoices:
    """Engines, site templates, TPS profiles and export engines, in the order to show them."""
    tables = tables or load_tables()
    engines = tuple(Choice(engine.name, engine.label) for engine in REGISTRY)
    templates = tuple(Choice(t, t) for t in tables.templates)
    profiles = tuple(Choice(p, load_profile(p).display_name) for p in PROFILE_IDS)
    slicerrt = slicerrt_available()
    export_engines = (
        Choice(BUILTIN_EXPORT, "OARContour (references the original CT)"),
        Choice(SLICERRT_EXPORT, "SlicerRT", slicerrt, "" if slicerrt else "SlicerRT is not installed"),
    )
    return PanelChoices(engines, templates, profiles, export_engines)


def engine_structures(engine: str) -> tuple[str, ...]:
    """TG-263 names a registered engine can produce (TotalSegmentator: whether installed or not).

    Raises
    ------
    InputError
        Unknown engine.
    """
    return engine_for(engine).structures()


def structure_choices(engine: str, template: str | None, tables: NamingTables | None = None) -> list[StructureChoice]:
    """The checklist: a template's structures (unavailable ones with the reason), else all the engine offers.

    Raises
    ------
    InputError
        Unknown template.
    """
    available = engine_structures(engine)
    wanted, skipped = select_structures(engine, available, template or None, None)
    choices = [StructureChoice(name, True) for name in wanted]
    choices += [StructureChoice(name, False, reason) for name, reason in skipped.items()]
    return choices


def autoseg_selection(template: str | None, choices: Sequence[StructureChoice],
                      checked: Sequence[str]) -> tuple[str | None, list[str] | None]:
    """``(template, structures)`` for ``autoSegment``: the template when every offered structure is checked
    (so its id lands in the provenance), else the checked names.

    Raises
    ------
    InputError
        No offered structure is checked.
    """
    offered = [c.name for c in choices if c.available]
    if not set(offered) & set(checked):
        raise InputError("No structure to segment is checked.",
                         hint="Check at least one structure the engine can produce, or choose another template.")
    if template and set(checked) == set(offered):
        return template, None
    return None, [name for name in offered if name in set(checked)]
