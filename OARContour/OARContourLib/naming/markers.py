"""Structure markers of TG-263 rules 7 and 8 read from a clinical name: PRV margins and partial ``~``.

``Cord PRV 5mm``, ``SpinalCord+5mm``, ``PRV5 cord`` and ``cord_prv05`` all say "PRV of the spinal
cord with a 5 mm margin"; the TG-263 name is ``SpinalCord_PRV05``: root, ``_PRV`` with a two-digit
margin in mm, laterality after the PRV tag (``OpticNrv_PRV03_L``). A name that would exceed 16
characters drops a digit (``OpticChiasm_PRV3``). ``~`` (or the word "partial") marks a structure
only partly in the scan: ``Brain~``, ``Lung~_L``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .laterality import split_side, with_side

MAX_NAME_LENGTH = 16
MAX_MARGIN_MM = 99
_NUMBER = r"(?P<m>\d+(?:[.,]\d+)?)"
_PRV = re.compile(r"prv(?:xx?)?[\s_\-]*" + _NUMBER + r"?\s*(?:(?P<u>mm|cm)(?![a-z]))?", re.IGNORECASE)
_BEFORE_PRV = re.compile(r"(?<![A-Za-z\d.])(?P<m>\d{1,2})\s*(?P<u>mm|cm)?[\s_\-]*prv(?![a-z])", re.IGNORECASE)
_PLUS = re.compile(r"\+\s*" + _NUMBER + r"\s*(?P<u>mm|cm)?", re.IGNORECASE)
_MARGIN = re.compile(r"(?<![A-Za-z\d.])" + _NUMBER + r"\s*(?P<u>mm|cm)(?![A-Za-z])", re.IGNORECASE)
_PARTIAL = re.compile(r"~|\bpartial\b|\bpart\b", re.IGNORECASE)


@dataclass(frozen=True)
class Markers:
    """What the name says beyond the anatomy.

    Attributes
    ----------
    prv : bool
        A planning organ-at-risk volume.
    margin_mm : float or None
        The PRV margin in mm when stated.
    partial : bool
        The structure is partial (``~``).
    """

    prv: bool = False
    margin_mm: float | None = None
    partial: bool = False

    @property
    def any(self) -> bool:
        return self.prv or self.partial


def extract_markers(text: str) -> tuple[Markers, str]:
    """Read PRV and partial markers from ``text``; returns them and the text without them."""
    prv, margin, text = _extract_prv(text)
    partial = bool(_PARTIAL.search(text))
    text = _PARTIAL.sub(" ", text)
    return Markers(prv, margin, partial), " ".join(text.split())


def _extract_prv(text: str) -> tuple[bool, float | None, str]:
    match = _BEFORE_PRV.search(text) or _PRV.search(text)  # "GreatVes_05_prv" or "cord PRV 5mm"
    if match:
        rest = text[: match.start()] + " " + text[match.end():]
        margin = _margin(match)
        if margin is None and (elsewhere := _MARGIN.search(rest)):
            margin, rest = _margin(elsewhere), rest[: elsewhere.start()] + " " + rest[elsewhere.end():]
        return True, margin, rest
    plus = _PLUS.search(text)
    if plus:
        return True, _margin(plus), text[: plus.start()] + " " + text[plus.end():]
    return False, None, text


def _margin(match: re.Match[str]) -> float | None:
    if not match.group("m"):
        return None
    value = float(match.group("m").replace(",", "."))
    return value * 10 if (match.group("u") or "").lower() == "cm" else value


@dataclass(frozen=True)
class Composed:
    """A name built from a root and markers, and why it may need a human look."""

    name: str
    problem: str = ""


def compose(root_name: str, markers: Markers) -> Composed:
    """The TG-263 name of ``root_name`` (e.g. ``OpticNrv_L``) with ``markers`` applied.

    ``compose("OpticNrv_L", Markers(prv=True, margin_mm=3))`` → ``OpticNrv_PRV03_L``.
    """
    base, side = split_side(root_name)
    if markers.partial:
        base += "~"
    if not markers.prv:
        return Composed(with_side(base, side))
    margin, problem = _margin_text(markers.margin_mm)
    name = with_side(f"{base}_PRV{margin}", side)
    if len(name) > MAX_NAME_LENGTH and len(margin) == 2 and margin.startswith("0"):
        name = with_side(f"{base}_PRV{margin[1]}", side)  # TG-263: drop a digit (OpticChiasm_PRV3)
    if len(name) > MAX_NAME_LENGTH:
        problem = problem or f"'{name}' is longer than 16 characters"
    return Composed(name, problem)


def _margin_text(margin_mm: float | None) -> tuple[str, str]:
    if margin_mm is None:
        return "", ""
    if margin_mm != int(margin_mm):
        return f"{int(round(margin_mm)):02d}", f"the margin {margin_mm:g} mm is not a whole number of mm"
    if not 0 <= margin_mm <= MAX_MARGIN_MM:
        return f"{int(margin_mm)}", f"the margin {margin_mm:g} mm does not fit two digits"
    return f"{int(margin_mm):02d}", ""


def describe(markers: Markers) -> str:
    """Human words for the markers, for the suggestion's reason."""
    words = []
    if markers.prv:
        words.append("PRV" + (f" {markers.margin_mm:g} mm" if markers.margin_mm is not None else ""))
    if markers.partial:
        words.append("partial (~)")
    return ", ".join(words)
