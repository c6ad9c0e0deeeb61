"""Laterality: find the side a clinical name states, and the side a TG-263 name carries.

The resolver's safety rule rests on this module: a side is only ever *read* from a name, never
guessed. Side words are recognised in any position and spelling (``L``, ``Lt``, ``Left``, ``Sin``,
``Sinister``, ``dx``/``sx``; prefix or suffix), ``Bilat``/``Both`` mark the bilateral (plural)
form, and ``ipsi``/``contra`` or a name that states both sides make the side unknown.
TG-263 puts ``_L``/``_R`` last (``Lung_L``, ``OpticNrv_PRV03_L``); lung lobes (``Lung_LUL``)
carry their side inside the lobe code, and ``VB_L``/``VB_S`` are the lumbar and sacral vertebrae.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Side(str, enum.Enum):
    """The side of a structure: TG-263 suffix value, ``""`` for none."""

    LEFT = "L"
    RIGHT = "R"
    NONE = ""


LEFT_WORDS = frozenset({"l", "lt", "lft", "left", "sin", "sinister", "sinistra", "sinistro", "sx", "links",
                        "izq", "izquierda", "izquierdo", "gauche"})
RIGHT_WORDS = frozenset({"r", "rt", "rgt", "right", "dex", "dexter", "dextra", "destra", "destro", "dx", "rechts",
                         "derecha", "derecho", "droit", "droite"})
BILATERAL_WORDS = frozenset({"bilat", "bilateral", "both", "bil", "total", "combined", "bilaterals"})
RELATIVE_WORDS = frozenset({"ipsi", "ipsilateral", "contra", "contralateral", "ipsilat", "contralat", "ipsil"})
#: Codes that keep their place in a name but imply a side (lung lobes, inferior nasal conchae).
IMPLIED_SIDES = {"lul": Side.LEFT, "lll": Side.LEFT, "li": Side.LEFT,
                 "rul": Side.RIGHT, "rml": Side.RIGHT, "rll": Side.RIGHT, "ri": Side.RIGHT}
_GLUED = (("left", Side.LEFT), ("right", Side.RIGHT), ("lt", Side.LEFT), ("rt", Side.RIGHT),
          ("l", Side.LEFT), ("r", Side.RIGHT))


@dataclass(frozen=True)
class SideReading:
    """What a name says about its side, and its tokens without the side words.

    Attributes
    ----------
    side : Side
        The stated (or lobe-implied) side; ``Side.NONE`` when none is stated.
    tokens : tuple of str
        The name's tokens with side, bilateral and relative words removed.
    bilateral : bool
        The name says both sides (``Bilat``, ``Both``, ``Total``).
    unknown : bool
        The side cannot be read safely: both sides stated, or ``ipsi``/``contra``.
    """

    side: Side
    tokens: tuple[str, ...]
    bilateral: bool = False
    unknown: bool = False


def read_side(tokens: list[str]) -> SideReading:
    """Read the side from lower-case tokens (see :func:`.normalize.raw_tokens`)."""
    stated: set[Side] = set()
    kept: list[str] = []
    bilateral = unknown = False
    for token in tokens:
        if token in LEFT_WORDS:
            stated.add(Side.LEFT)
        elif token in RIGHT_WORDS:
            stated.add(Side.RIGHT)
        elif token in BILATERAL_WORDS:
            bilateral = True
        elif token in RELATIVE_WORDS:
            unknown = True
        else:
            kept.append(token)
            if token in IMPLIED_SIDES:
                stated.add(IMPLIED_SIDES[token])
    if len(stated) > 1 or (bilateral and stated):
        unknown = True
    side = next(iter(stated)) if len(stated) == 1 and not unknown else Side.NONE
    return SideReading(side, tuple(kept), bilateral and not unknown, unknown)


def glued_sides(key: str) -> list[tuple[Side, str]]:
    """Every reading of a lower-case key as a side glued to a name (``lkidney``, ``breastl``), prefixes first.

    The caller must confirm that the rest is a known lateral structure: ``lips`` is not "left ips".
    """
    readings = [(side, key[len(p):]) for p, side in _GLUED if key.startswith(p) and len(key) - len(p) >= 3]
    readings += [(side, key[: -len(s)]) for s, side in _GLUED if key.endswith(s) and len(key) - len(s) >= 3]
    return readings


def side_of_name(name: str) -> Side:
    """The side a TG-263 style name carries (``Lung_L``, ``L_Lung``, ``OpticNrv_PRV03_L``, ``Lung_LUL``).

    The left operand decides for a subtraction (``Kidney_L-GTV``); vertebral levels (``VB_L``) have no side.
    """
    core = name.split("^", 1)[0].split("-", 1)[0].replace("~", "")
    parts = [p for p in core.split("_") if p]
    if not parts or parts[0].upper() == "VB":
        return Side.NONE
    sides = {side for part in parts if (side := _part_side(part)) is not Side.NONE}
    return next(iter(sides)) if len(sides) == 1 else Side.NONE


def _part_side(part: str) -> Side:
    upper = part.upper()
    if upper in ("L", "R"):
        return Side(upper)
    return IMPLIED_SIDES.get(part.lower(), Side.NONE) if upper == part else Side.NONE


def split_side(name: str) -> tuple[str, Side]:
    """``("Parotid", Side.LEFT)`` for ``Parotid_L``; ``(name, Side.NONE)`` when the name does not end in a side."""
    side = side_of_name(name)
    if side is not Side.NONE and name.endswith("_" + side.value):
        return name[:-2], side
    return name, Side.NONE


def with_side(base: str, side: Side) -> str:
    """TG-263 places the side last: ``with_side("OpticNrv_PRV03", Side.LEFT)`` → ``OpticNrv_PRV03_L``."""
    return f"{base}_{side.value}" if side is not Side.NONE else base
