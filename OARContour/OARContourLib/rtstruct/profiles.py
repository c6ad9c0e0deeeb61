"""Planning-system (TPS) profiles: what each system needs from an RTSTRUCT, as data files.

Each profile is ``Resources/TPS/<id>.json``. Every setting carries its value, the evidence level
(``standard``, ``confirmed-community`` or ``unconfirmed``), the constraint ID of our constraint table
and a source, so a user can see which rules are proven and which are only commonly held.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..errors import InputError, OARContourError
from ..resources import resource_path
from .contours import HoleEncoding

SCHEMA = "oarcontour.tps-profile/1"
DEFAULT_PROFILE = "generic"


def _profile_ids() -> tuple[str, ...]:
    """The profiles in ``Resources/TPS`` (one ``<id>.json`` each): the default first, then by id."""
    found = {path.stem for path in resource_path("TPS").glob("*.json")}
    return tuple(sorted(found, key=lambda profile_id: (profile_id != DEFAULT_PROFILE, profile_id)))


#: Every profile shipped, read from the Resources folder (adding ``<id>.json`` adds a profile).
PROFILE_IDS = _profile_ids()


class EmptyRoiPolicy(str, enum.Enum):
    OMIT = "omit"
    WRITE = "write"


class Evidence(str, enum.Enum):
    STANDARD = "standard"
    CONFIRMED = "confirmed-community"
    UNCONFIRMED = "unconfirmed"


@dataclass(frozen=True)
class Setting:
    """One profile value with the evidence behind it."""

    value: Any
    evidence: Evidence
    constraint: str
    source: str


@dataclass(frozen=True)
class TPSProfile:
    id: str
    display_name: str
    max_roi_name_length: Setting
    roi_name_characters: Setting
    unique_names_ignoring_case: Setting
    exactly_one_external: Setting
    hole_encoding: Setting
    ds_max_decimals: Setting
    write_identification_codes: Setting
    empty_roi_policy: Setting

    @property
    def hole(self) -> HoleEncoding:
        return HoleEncoding(self.hole_encoding.value)

    @property
    def empty_policy(self) -> EmptyRoiPolicy:
        return EmptyRoiPolicy(self.empty_roi_policy.value)

    def name_pattern(self) -> re.Pattern[str]:
        return re.compile(str(self.roi_name_characters.value))

    def unconfirmed(self) -> list[str]:
        """Names of the settings that rest on no public evidence (shown to users as such)."""
        return [name for name, s in self.settings().items() if s.evidence is Evidence.UNCONFIRMED]

    def settings(self) -> dict[str, Setting]:
        return {name: getattr(self, name) for name in SETTING_NAMES}

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "display_name": self.display_name,
                "settings": {n: {"value": s.value, "evidence": s.evidence.value, "constraint": s.constraint,
                                 "source": s.source} for n, s in self.settings().items()}}


SETTING_NAMES = tuple(f for f in TPSProfile.__dataclass_fields__ if f not in {"id", "display_name"})
VALUE_CHECKS = {
    "max_roi_name_length": lambda v: isinstance(v, int) and 1 <= v <= 64,
    "roi_name_characters": lambda v: isinstance(v, str) and bool(re.compile(v)),
    "unique_names_ignoring_case": lambda v: isinstance(v, bool),
    "exactly_one_external": lambda v: isinstance(v, bool),
    "hole_encoding": lambda v: v in {e.value for e in HoleEncoding},
    "ds_max_decimals": lambda v: isinstance(v, int) and 0 <= v <= 6,
    "write_identification_codes": lambda v: isinstance(v, bool),
    "empty_roi_policy": lambda v: v in {e.value for e in EmptyRoiPolicy},
}


@cache
def load_profile(profile_id: str) -> TPSProfile:
    """Load and validate ``Resources/TPS/<profile_id>.json``.

    Raises
    ------
    InputError
        For an unknown profile name (the message lists the known ones).
    OARContourError
        When the data file is malformed (names the file and the setting).
    """
    key = profile_id.strip().lower()
    if key not in PROFILE_IDS:
        raise InputError(f"Unknown TPS profile '{profile_id}'.", hint=f"Choose one of: {', '.join(PROFILE_IDS)}.")
    path = resource_path(f"TPS/{key}.json")
    document = json.loads(path.read_text(encoding="utf-8"))
    if document.get("schema") != SCHEMA or document.get("id") != key:
        raise OARContourError(f"{path.name}: schema or id is wrong.", hint="Reinstall OARContour.", code="BAD_RESOURCE")
    settings = {name: _setting(path.name, name, document.get("settings", {}).get(name)) for name in SETTING_NAMES}
    return TPSProfile(id=key, display_name=str(document.get("display_name", key)), **settings)


def _setting(file_name: str, name: str, raw: Any) -> Setting:
    try:
        setting = Setting(raw["value"], Evidence(raw["evidence"]), str(raw["constraint"]), str(raw["source"]))
    except (TypeError, KeyError, ValueError) as exc:
        raise OARContourError(f"{file_name}: setting '{name}' is missing or malformed ({exc}).",
                              hint="Each setting needs value, evidence, constraint and source.",
                              code="BAD_RESOURCE") from exc
    if not VALUE_CHECKS[name](setting.value):
        raise OARContourError(f"{file_name}: setting '{name}' has an invalid value {setting.value!r}.",
                              hint="Fix the profile file.", code="BAD_RESOURCE")
    return setting
