"""Recipes for derived structures, as typed on a command line, and applying them to masks.

Grammar (one recipe per string; margins in mm; an optional ``=Name`` names the result):

* ``SpinalCord:5`` → PRV, ``SpinalCord_PRV05`` (AVOIDANCE);
* ``PTV:5:15`` → ring from 5 to 15 mm outside PTV, ``zRing_PTV_5_15`` (CONTROL);
* ``Lungs:GTV`` → subtraction, ``Lungs-GTV``;
* ``OpticChiasm:3=OpticChiasm_PRV`` → the same operations with an explicit name;
* ``CTV:7,post=5`` → directional PRV: 7 mm toward every patient direction except 5 mm posterior,
  ``PTV`` (see :func:`.names.directional_prv_name`); ``CTV:7,post=5=PTV_High`` names it.

Directional margins are comma-separated: ``DIR=mm`` items, with DIR one of ``anterior``/``ant``/``A``,
``posterior``/``post``/``P``, ``left``/``L``, ``right``/``R``, ``superior``/``sup``/``S``,
``inferior``/``inf``/``I`` (any case), plus at most one bare number, the margin toward every direction
not listed. Either the bare number or all six directions must be given: a forgotten direction must not
silently get 0 mm. Six equal margins are the isotropic PRV (``CTV:7,post=7`` is ``CTV:7``).
``=Name`` ends a recipe when what follows the last ``=`` is not a number.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from ..findings import Finding, Severity
from ..naming.tables import NamingTables, load_tables
from ..naming.validate import validate_name
from ..progress import ProgressCallback, report
from ..rtstruct.model import RoiType
from . import booleans, margins
from .directional import DirectionalMargin, PatientDirection, expand_directional
from .names import DerivedName, describe, directional_prv_name, prv_name, ring_name, subtraction_name

logger = logging.getLogger(__name__)

_HINT = ("Recipes are Root:margin (PRV), Root:margin,DIR=margin,... (directional PRV, e.g. CTV:7,post=5), "
         "Root:inner:outer (ring) or Minuend:Subtrahend, optionally =Name.")
_DIRECTIONAL_HINT = ("Give a default and the exceptions, e.g. CTV:7,post=5, or all six directions, e.g. "
                     "CTV:ant=5,post=3,left=7,right=7,sup=10,inf=10; directions are anterior/ant/A, posterior/post/P, "
                     "left/L, right/R, superior/sup/S, inferior/inf/I; margins in mm ≥ 0.")
_DIRECTION_WORDS = {word: direction for direction, words in {
    PatientDirection.ANTERIOR: ("anterior", "ant", "a"), PatientDirection.POSTERIOR: ("posterior", "post", "p"),
    PatientDirection.LEFT: ("left", "l"), PatientDirection.RIGHT: ("right", "r"),
    PatientDirection.SUPERIOR: ("superior", "sup", "s"), PatientDirection.INFERIOR: ("inferior", "inf", "i"),
}.items() for word in words}


@dataclass(frozen=True)
class PrvRecipe:
    """Expand ``source`` by ``margin_mm`` (a PRV)."""

    source: str
    margin_mm: float
    name: str | None = None


@dataclass(frozen=True)
class RingRecipe:
    """The shell from ``inner_mm`` to ``outer_mm`` outside ``source``."""

    source: str
    inner_mm: float
    outer_mm: float
    name: str | None = None


@dataclass(frozen=True)
class SubtractRecipe:
    """``minuend`` minus ``subtrahend``."""

    minuend: str
    subtrahend: str
    name: str | None = None


@dataclass(frozen=True)
class DirectionalPrvRecipe:
    """Expand ``source`` by a different margin toward each patient direction."""

    source: str
    margin: DirectionalMargin
    name: str | None = None


Recipe = PrvRecipe | DirectionalPrvRecipe | RingRecipe | SubtractRecipe


@dataclass(frozen=True)
class DerivedResult:
    """Masks of the derived structures with their names, types and what to look at."""

    masks: dict[str, np.ndarray]
    names: tuple[DerivedName, ...]
    roi_types: dict[str, RoiType]
    findings: tuple[Finding, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"names": [n.to_dict() for n in self.names],
                "voxel_counts": {k: int(v.sum()) for k, v in self.masks.items()},
                "findings": [f.to_dict() for f in self.findings]}


def parse_recipe(text: str) -> Recipe:
    """Parse one recipe string.

    Raises
    ------
    InputError
        An empty part, a margin that is not a number ≥ 0, a ring whose outer margin does not exceed
        its inner one, too many parts, or a directional margin with an unknown, repeated or missing
        direction; the message quotes the bad token.
    """
    body, result_name = _split_name(text)
    parts = [p.strip() for p in body.split(":")]
    if len(parts) < 2 or len(parts) > 3 or not all(parts):
        raise InputError(f"Recipe '{text}' is not understood.", hint=_HINT)
    if any("," in p or "=" in p for p in parts[1:]):
        if len(parts) != 2:
            raise InputError(f"Recipe '{text}': directional margins are for PRVs only (Root:7,post=5).",
                             hint="Rings take one inner and one outer margin, e.g. PTV:5:15.")
        margin = _directional(parts[1], text)
        if margin.is_uniform:
            return PrvRecipe(parts[0], margin.anterior_mm, result_name)
        return DirectionalPrvRecipe(parts[0], margin, result_name)
    if len(parts) == 2 and not _looks_numeric(parts[1]):
        return SubtractRecipe(parts[0], parts[1], result_name)
    numbers = [_margin(p, text) for p in parts[1:]]
    if len(numbers) == 1:
        return PrvRecipe(parts[0], numbers[0], result_name)
    if numbers[1] <= numbers[0]:
        raise InputError(f"Recipe '{text}': outer margin '{parts[2]}' must exceed inner margin '{parts[1]}'.",
                         hint="A ring is Root:inner:outer in mm, e.g. PTV:5:15.")
    return RingRecipe(parts[0], numbers[0], numbers[1], result_name)


def _split_name(text: str) -> tuple[str, str | None]:
    """The recipe without its ``=Name``, and the name; the last ``=`` names unless a number follows it."""
    body, has_name, name = text.strip().rpartition("=")
    if not has_name:
        return name, None
    if not name.strip():
        raise InputError(f"Recipe '{text}': nothing after '='.", hint=_HINT)
    before = body.rsplit(",", 1)[-1].rsplit(":", 1)[-1].strip().lower()
    if _is_number(name) or ":" in name or "," in name or before in _DIRECTION_WORDS:  # a margin, not a name
        return text.strip(), None
    return body, name.strip()


def _directional(token: str, text: str) -> DirectionalMargin:
    """``7,post=5`` or ``A=5,P=3,L=7,R=7,S=10,I=10`` → :class:`DirectionalMargin`."""
    default: float | None = None
    given: dict[PatientDirection, float] = {}
    for item in (i.strip() for i in token.split(",")):
        word, has_value, number = item.partition("=")
        if not has_value:
            if default is not None:
                raise InputError(f"Recipe '{text}': two default margins ('{item}').", hint=_DIRECTIONAL_HINT)
            default = _margin(item, text)
            continue
        direction = _DIRECTION_WORDS.get(word.strip().lower())
        if direction is None or direction in given:
            problem = "unknown direction" if direction is None else "direction given twice"
            raise InputError(f"Recipe '{text}': {problem} '{word.strip()}'.", hint=_DIRECTIONAL_HINT)
        given[direction] = _margin(number.strip(), text)
    missing = [d.name.lower() for d in PatientDirection if d not in given]
    if default is None and missing:
        raise InputError(f"Recipe '{text}': no margin toward {', '.join(missing)} and no default margin.",
                         hint=_DIRECTIONAL_HINT)
    margin = DirectionalMargin.uniform(default or 0.0)
    for direction, margin_mm in given.items():
        margin = margin.with_margin(direction, margin_mm)
    return margin


def parse_recipes(texts: Iterable[str]) -> list[Recipe]:
    """Parse several recipe strings (see :func:`parse_recipe`)."""
    return [parse_recipe(t) for t in texts]


def apply_recipes(masks: Mapping[str, np.ndarray], spacing_mm_kji: Sequence[float],
                  recipes: Sequence[Recipe | str], progress: ProgressCallback | None = None,
                  tables: NamingTables | None = None, *, ijk_to_lps: np.ndarray | None = None) -> DerivedResult:
    """Build every recipe's structure from ``masks`` (name → boolean (k, j, i) mask).

    Results are not fed to later recipes: each recipe reads only the input masks. Directional PRVs
    need ``ijk_to_lps``, the grid's voxel-index-to-LPS matrix (``ImageGeometry.ijk_to_lps()``), to
    know which array direction is anterior, left or superior.

    Returns
    -------
    DerivedResult
        Masks keyed by derived name, names with type and colour, and findings: ``DERIVED_EMPTY``
        (warning) for an empty result, plus the naming checks of every derived name.

    Raises
    ------
    InputError
        A recipe string that does not parse, or a source structure not in ``masks`` (the message
        lists the structures that exist).
    InputError
        A directional PRV without ``ijk_to_lps``, or on an oblique grid.
    InputError
        Two recipes making the same name, or a recipe making the name of an input structure (ignoring case).
    NamingError
        A derived name that cannot fit 16 characters (name it with ``=Name``).
    GeometryError
        Masks on different grids or a bad spacing.
    """
    parsed = [parse_recipe(r) if isinstance(r, str) else r for r in recipes]
    for recipe in parsed:
        _check_sources(recipe, masks)
        _check_orientation(recipe, ijk_to_lps)
    tables = tables or load_tables()
    out: dict[str, np.ndarray] = {}
    names: list[DerivedName] = []
    findings: list[Finding] = []
    for number, recipe in enumerate(parsed):
        report(progress, number / max(len(parsed), 1), f"Deriving {_label(recipe)}")
        derived, mask = _apply_one(recipe, masks, spacing_mm_kji, tables, ijk_to_lps)
        _check_new(derived.name, recipe, out)
        _check_not_existing(derived.name, recipe, masks)
        out[derived.name] = mask
        names.append(derived)
        findings += _findings(derived.name, mask, tables)
    report(progress, 1.0, f"Derived {len(names)} structures")
    return DerivedResult(out, tuple(names), {n.name: n.roi_type for n in names}, tuple(findings))


def _apply_one(recipe: Recipe, masks: Mapping[str, np.ndarray], spacing: Sequence[float],
               tables: NamingTables, ijk_to_lps: np.ndarray | None) -> tuple[DerivedName, np.ndarray]:
    if isinstance(recipe, DirectionalPrvRecipe):
        assert ijk_to_lps is not None  # _check_orientation refused it before any work
        mask = expand_directional(masks[recipe.source], spacing, recipe.margin, ijk_to_lps)
        default_name, roi_type = directional_prv_name(recipe.source)
        return describe(recipe.name or default_name, roi_type, tables), mask
    if isinstance(recipe, PrvRecipe):
        mask = margins.expand(masks[recipe.source], spacing, recipe.margin_mm)
        name = recipe.name or prv_name(recipe.source, recipe.margin_mm)
        return describe(name, RoiType.AVOIDANCE, tables), mask
    if isinstance(recipe, RingRecipe):
        mask = margins.ring(masks[recipe.source], spacing, recipe.inner_mm, recipe.outer_mm)
        name = recipe.name or ring_name(recipe.source, recipe.inner_mm, recipe.outer_mm)
        return describe(name, RoiType.CONTROL, tables), mask
    mask = booleans.subtract(masks[recipe.minuend], masks[recipe.subtrahend])
    name = recipe.name or subtraction_name(recipe.minuend, recipe.subtrahend)
    return describe(name, RoiType.AVOIDANCE, tables), mask


def _findings(name: str, mask: np.ndarray, tables: NamingTables) -> list[Finding]:
    found = validate_name(name, tables)
    if not mask.any():
        found.append(Finding("DERIVED_EMPTY", Severity.WARNING, f"Derived structure '{name}' is empty.", name,
                             "Check the source structures and margins; an empty ROI is usually not exported."))
    return found


def _check_new(name: str, recipe: Recipe, done: Mapping[str, np.ndarray]) -> None:
    clash = [n for n in done if n.casefold() == name.casefold()]
    if clash:
        raise InputError(f"Recipe {_label(recipe)} makes '{name}', which an earlier recipe already made ('{clash[0]}').",
                         hint="Give one of them another name with '=Name', or drop the duplicate recipe.")


def _check_not_existing(name: str, recipe: Recipe, masks: Mapping[str, np.ndarray]) -> None:
    clash = [n for n in masks if n.casefold() == name.casefold()]
    if clash:
        raise InputError(f"Recipe {_label(recipe)} makes '{name}', but the structure '{clash[0]}' already exists: "
                         "two structures would share one name.",
                         hint="Name the result with '=Name' (e.g. =PTV_2), or remove or rename the existing structure.")


def _check_orientation(recipe: Recipe, ijk_to_lps: np.ndarray | None) -> None:
    if isinstance(recipe, DirectionalPrvRecipe) and ijk_to_lps is None:
        raise InputError(f"Recipe {_label(recipe)} has directional margins, which need the image orientation.",
                         hint="Pass ijk_to_lps (the CT geometry's voxel-to-LPS matrix) to apply_recipes.")


def _check_sources(recipe: Recipe, masks: Mapping[str, np.ndarray]) -> None:
    sources = (recipe.minuend, recipe.subtrahend) if isinstance(recipe, SubtractRecipe) else (recipe.source,)
    for source in sources:
        if source not in masks:
            existing = ", ".join(sorted(masks)) or "none"
            raise InputError(f"Recipe {_label(recipe)}: no structure '{source}'. Structures present: {existing}.",
                             hint="Use a structure name exactly as listed (names are case-sensitive).")


def _label(recipe: Recipe) -> str:
    if isinstance(recipe, PrvRecipe):
        return f"'{recipe.source}:{recipe.margin_mm:g}'"
    if isinstance(recipe, DirectionalPrvRecipe):
        return f"'{recipe.source}:{recipe.margin}'"
    if isinstance(recipe, RingRecipe):
        return f"'{recipe.source}:{recipe.inner_mm:g}:{recipe.outer_mm:g}'"
    return f"'{recipe.minuend}:{recipe.subtrahend}'"


def _looks_numeric(token: str) -> bool:
    return token[:1].isdigit() or token[:1] in "+-." and token[1:2].isdigit()


def _is_number(token: str) -> bool:
    try:
        float(token.strip().removesuffix("mm"))
    except ValueError:
        return False
    return True


def _margin(token: str, text: str) -> float:
    try:
        value = float(token.removesuffix("mm"))
    except ValueError:
        raise InputError(f"Recipe '{text}': margin '{token}' is not a number of mm.", hint=_HINT) from None
    if not (math.isfinite(value) and value >= 0):
        raise InputError(f"Recipe '{text}': margin '{token}' must be a number ≥ 0 in mm.", hint=_HINT)
    return value
