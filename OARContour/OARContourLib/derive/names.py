"""TG-263 names, colours and RT ROI types of derived structures (naming.md §1 rules 7-9).

* PRV: ``<root>_PRV`` + two-digit margin in mm, laterality after the PRV tag
  (``SpinalCord_PRV05``, ``OpticNrv_PRV03_L``); one digit is dropped when the name would
  exceed 16 characters (``OpticChiasm_PRV3``). Type AVOIDANCE.
* Ring: a non-dose helper, so ``z``-prefixed. OARContour's choice is ``zRing_<root>_<inner>_<outer>``
  with the margins in whole mm (``zRing_PTV_5_15``; ``zRing_PTV_0_10`` starts at the surface), so
  two rings of one target never collide; ``with_margins=False`` gives the bare ``zRing_PTV`` of
  TG-263's example. When too long, the underscore after ``Ring`` goes (``zRingPTVp1_5_15``).
  Type CONTROL (helpers are not used for dose evaluation).
* Subtraction: ``Lungs-GTV``; type and colour from the tables (``Body-PTV`` → AVOIDANCE).
* Directional PRV (a different margin toward A, P, L, R, S, I; :func:`directional_prv_name`):
  a target volume grown by a setup margin is a PTV (TG-263 §8.2, type first), so the type of a
  GTV/CTV/ITV/IGTV/ICTV source becomes PTV and the rest of its name stays (``CTVp1_High`` →
  ``PTVp1_High``; underscores go from left to right when too long). Any other source gets ``_PRV``
  without digits (``SpinalCord_PRV``, ``OpticNrv_PRV_L``): TG-263's two digits state one margin, and
  the largest of six would tell a planner more margin than most directions have. Name the result
  with ``=Name`` to state the margins (or to tell two directional PRVs of one organ apart).

Names that cannot be made to fit 16 characters raise :class:`NamingError` with a hint to name the
result explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import NamingError
from ..naming.appearance import appearance
from ..naming.entries import Color
from ..naming.grammar import TARGET_RE
from ..naming.markers import Markers, compose
from ..naming.tables import HELPER_COLOR, NamingTables, load_tables
from ..rtstruct.model import RoiType

MAX_NAME_LENGTH = 16
#: Target types a margin turns into a PTV (TG-263 §8.2); a PTV's own expansion is named as a PRV.
_GROWS_INTO_PTV = frozenset({"GTV", "CTV", "ITV", "IGTV", "ICTV"})
#: Colour of helpers whose name the tables do not know (the grey of the tables' z helpers).
FALLBACK_COLOR: Color = HELPER_COLOR


@dataclass(frozen=True)
class DerivedName:
    """Name, RT ROI Interpreted Type and display colour of one derived structure."""

    name: str
    roi_type: RoiType
    color: Color

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "roi_type": self.roi_type.value, "color": list(self.color)}


def prv_name(root: str, margin_mm: float) -> str:
    """TG-263 PRV name: ``prv_name("OpticNrv_L", 3)`` → ``OpticNrv_PRV03_L``.

    Raises
    ------
    NamingError
        A margin that is not a whole number of mm in 0..99, or a name still over 16 characters
        after dropping a digit.
    """
    composed = compose(root, Markers(prv=True, margin_mm=float(margin_mm)))
    if composed.problem:
        raise NamingError(f"Cannot name the PRV of '{root}' with {margin_mm:g} mm: {composed.problem}.",
                          hint="Use a whole-mm margin of 0-99, or give the result a name of at most 16 characters "
                               "(recipe 'Root:margin=Name').")
    return composed.name


def directional_prv_name(root: str) -> tuple[str, RoiType]:
    """Name and fallback RT ROI type of ``root`` grown by directional margins.

    ``directional_prv_name("CTV_High")`` → ``("PTV_High", RoiType.PTV)``;
    ``directional_prv_name("OpticNrv_L")`` → ``("OpticNrv_PRV_L", RoiType.AVOIDANCE)``.

    Raises
    ------
    NamingError
        A name over 16 characters even after dropping underscores (targets).
    """
    target = TARGET_RE.match(root)
    if target and target.group("type") in _GROWS_INTO_PTV and target.group("rest")[:1] in ("", "_"):
        name = "PTV" + root[len(target.group("type")):]
        candidates = [name]
        while "_" in candidates[-1]:  # TG-263 §8.2: delete underscores from left to right
            candidates.append(candidates[-1].replace("_", "", 1))
        return _first_fitting(candidates, "PTV", "CTV:7,post=5=PTV"), RoiType.PTV
    composed = compose(root, Markers(prv=True, margin_mm=None))
    return _first_fitting([composed.name], "PRV", "Root:5,post=3=Name"), RoiType.AVOIDANCE


def ring_name(root: str, inner_mm: float, outer_mm: float, *, with_margins: bool = True) -> str:
    """Non-dose ring helper name: ``ring_name("PTV", 5, 15)`` → ``zRing_PTV_5_15``.

    Raises
    ------
    NamingError
        Margins that are not whole mm, or a name over 16 characters even without the underscore.
    """
    if not with_margins:
        candidates = [f"zRing_{root}", f"zRing{root}"]
    else:
        if inner_mm != int(inner_mm) or outer_mm != int(outer_mm):
            raise NamingError(f"Ring margins {inner_mm:g}/{outer_mm:g} mm of '{root}' are not whole mm.",
                              hint="Use whole-mm margins, or name the ring explicitly (recipe 'PTV:5:15=zRing_PTV').")
        suffix = f"_{int(inner_mm)}_{int(outer_mm)}"
        candidates = [f"zRing_{root}{suffix}", f"zRing{root}{suffix}"]
    return _first_fitting(candidates, "ring", "PTV:5:15=zRing_PTV")


def subtraction_name(minuend: str, *subtrahends: str) -> str:
    """TG-263 subtraction: ``subtraction_name("Lungs", "GTV")`` → ``Lungs-GTV``.

    Raises
    ------
    NamingError
        No subtrahend, or a name over 16 characters.
    """
    if not subtrahends:
        raise NamingError(f"Subtraction from '{minuend}' names nothing to subtract.", hint="Use e.g. Lungs:GTV.")
    return _first_fitting(["-".join((minuend, *subtrahends))], "subtraction", "Lungs:GTV=Lungs-GTV")


def describe(name: str, fallback: RoiType, tables: NamingTables | None = None) -> DerivedName:
    """Type and colour of a derived name from the tables, else ``fallback`` in grey.

    ``z`` helpers are always CONTROL: they are not used for dose evaluation (TG-263 rule 9).
    """
    look = appearance(name, tables=tables or load_tables())
    if name.startswith("z"):
        return DerivedName(name, RoiType.CONTROL, look.color if look.known else FALLBACK_COLOR)
    if not look.known:  # the recipe knows the kind of result better than rules on the name
        return DerivedName(name, fallback, FALLBACK_COLOR)
    return DerivedName(name, look.roi_type, look.color)


def _first_fitting(candidates: list[str], kind: str, example: str) -> str:
    for name in candidates:
        if len(name) <= MAX_NAME_LENGTH:
            return name
    raise NamingError(f"The {kind} name '{candidates[0]}' is longer than {MAX_NAME_LENGTH} characters.",
                      hint=f"Name the result explicitly with at most {MAX_NAME_LENGTH} characters "
                           f"(recipe '{example}').")
