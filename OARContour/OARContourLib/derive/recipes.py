"""Recipes for derived structures, as typed on a command line, and applying them to masks.

Grammar (one recipe per string; margins in mm; an optional ``=Name`` names the result):

* ``SpinalCord:5`` → PRV, ``SpinalCord_PRV05`` (AVOIDANCE);
* ``PTV:5:15`` → ring from 5 to 15 mm outside PTV, ``zRing_PTV_5_15`` (CONTROL);
* ``Lungs:GTV`` → subtraction, ``Lungs-GTV``;
* ``OpticChiasm:3=OpticChiasm_PRV`` → the same operations with an explicit name.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ct.problems import Severity
from ..errors import InputError
from ..findings import Finding
from ..naming.tables import NamingTables, load_tables
from ..naming.validate import validate_name
from ..progress import ProgressCallback, report
from ..rtstruct.model import RoiType
from . import booleans, margins
from .names import DerivedName, describe, prv_name, ring_name, subtraction_name

logger = logging.getLogger(__name__)

_HINT = "Recipes are Root:margin (PRV), Root:inner:outer (ring) or Minuend:Subtrahend, optionally =Name."


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


Recipe = PrvRecipe | RingRecipe | SubtractRecipe


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
        its inner one, or too many parts; the message quotes the bad token.
    """
    body, has_name, name = text.strip().partition("=")
    if has_name and not name.strip():
        raise InputError(f"Recipe '{text}': nothing after '='.", hint=_HINT)
    parts = [p.strip() for p in body.split(":")]
    if len(parts) < 2 or len(parts) > 3 or not all(parts):
        raise InputError(f"Recipe '{text}' is not understood.", hint=_HINT)
    result_name = name.strip() or None
    if len(parts) == 2 and not _looks_numeric(parts[1]):
        return SubtractRecipe(parts[0], parts[1], result_name)
    numbers = [_margin(p, text) for p in parts[1:]]
    if len(numbers) == 1:
        return PrvRecipe(parts[0], numbers[0], result_name)
    if numbers[1] <= numbers[0]:
        raise InputError(f"Recipe '{text}': outer margin '{parts[2]}' must exceed inner margin '{parts[1]}'.",
                         hint="A ring is Root:inner:outer in mm, e.g. PTV:5:15.")
    return RingRecipe(parts[0], numbers[0], numbers[1], result_name)


def parse_recipes(texts: Iterable[str]) -> list[Recipe]:
    """Parse several recipe strings (see :func:`parse_recipe`)."""
    return [parse_recipe(t) for t in texts]


def apply_recipes(masks: Mapping[str, np.ndarray], spacing_mm_kji: Sequence[float],
                  recipes: Sequence[Recipe | str], progress: ProgressCallback | None = None,
                  tables: NamingTables | None = None) -> DerivedResult:
    """Build every recipe's structure from ``masks`` (name → boolean (k, j, i) mask).

    Results are not fed to later recipes: each recipe reads only the input masks.

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
        Two recipes making the same name (ignoring case).
    NamingError
        A derived name that cannot fit 16 characters (name it with ``=Name``).
    GeometryError
        Masks on different grids or a bad spacing.
    """
    parsed = [parse_recipe(r) if isinstance(r, str) else r for r in recipes]
    for recipe in parsed:
        _check_sources(recipe, masks)
    tables = tables or load_tables()
    out: dict[str, np.ndarray] = {}
    names: list[DerivedName] = []
    findings: list[Finding] = []
    for number, recipe in enumerate(parsed):
        report(progress, number / max(len(parsed), 1), f"Deriving {_label(recipe)}")
        derived, mask = _apply_one(recipe, masks, spacing_mm_kji, tables)
        _check_new(derived.name, recipe, out)
        out[derived.name] = mask
        names.append(derived)
        findings += _findings(derived.name, mask, tables)
    report(progress, 1.0, f"Derived {len(names)} structures")
    return DerivedResult(out, tuple(names), {n.name: n.roi_type for n in names}, tuple(findings))


def _apply_one(recipe: Recipe, masks: Mapping[str, np.ndarray], spacing: Sequence[float],
               tables: NamingTables) -> tuple[DerivedName, np.ndarray]:
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
    if isinstance(recipe, RingRecipe):
        return f"'{recipe.source}:{recipe.inner_mm:g}:{recipe.outer_mm:g}'"
    return f"'{recipe.minuend}:{recipe.subtrahend}'"


def _looks_numeric(token: str) -> bool:
    return token[:1].isdigit() or token[:1] in "+-." and token[1:2].isdigit()


def _margin(token: str, text: str) -> float:
    try:
        value = float(token.removesuffix("mm"))
    except ValueError:
        raise InputError(f"Recipe '{text}': margin '{token}' is not a number of mm.", hint=_HINT) from None
    if not (math.isfinite(value) and value >= 0):
        raise InputError(f"Recipe '{text}': margin '{token}' must be a number ≥ 0 in mm.", hint=_HINT)
    return value
