"""Compound names (TG-263 rules 8 and 9): subtraction ``-``, custom qualifier ``^`` and ``z`` helpers.

* ``Lungs minus GTV``, ``Body - PTV`` → ``Lungs-GTV``, ``Body-PTV``. A bare ``-`` only subtracts a
  target (``Kidney_L-GTV``): ``Rectum-Sigmoid`` (the rectosigmoid) or ``Left-Parotid`` are no
  subtractions.
* ``Lungs^Ex`` keeps the custom qualifier after ``^``.
* Structures not used for dose evaluation get a ``z`` prefix: ``ring PTV`` → ``zRing_PTV``,
  ``opt PTV`` → ``zPTVopt``, ``avoid rectum`` → ``zAvoid_Rectum``; ``zPTVopt`` stays as it is.

Each function takes the resolver of simple names as an argument (``simple("Lungs")`` → candidates,
best first), so this module does not depend on how those are found. A compound is never more
certain than its least certain part, and never above :data:`COMPOUND_CAP`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .normalize import raw_tokens
from .organs import Candidate
from .targets import MAX_NAME_LENGTH, shorten_target

SimpleResolver = Callable[[str], list[Candidate]]

AUTO_LEVEL = 0.9
COMPOUND_CAP = 0.95
EXISTING_HELPER_CONFIDENCE = 0.95
TOO_LONG_CAP = 0.6
_TARGET = re.compile(r"^(?:igtv|ictv|gtv|ctv|itv|ptv)", re.IGNORECASE)
_CUSTOM = re.compile(r"^(?P<core>[^^]+)\^\s*(?P<custom>[A-Za-z0-9]+)\s*$")
#: Explicit subtractions first; a bare "-" last (it only subtracts a target).
_SPLITS = (re.compile(r"\s+minus\s+", re.IGNORECASE), re.compile(r"\s+-\s+"), re.compile(r"(?<=\S)-(?=\S)"))
_EXISTING_HELPER = re.compile(r"^(?:z[A-Z0-9_]|_[A-Za-z])[A-Za-z0-9_~^\-!]*$")
NON_DOSE_WORDS = {"ring": "Ring", "rings": "Ring", "avoid": "Avoid", "avoidance": "Avoid", "avd": "Avoid",
                  "hot": "Hot", "hotspot": "Hot", "cold": "Cold", "coldspot": "Cold", "opt": "opt", "optim": "opt",
                  "optimization": "opt", "optimisation": "opt"}
_ATTACHED = re.compile(r"(?i)\b(ptv|ctv|gtv|itv)(opt|ring)\b")


def custom_qualifier(text: str, simple: SimpleResolver) -> list[Candidate]:
    """``Lungs^Ex``: resolve the part before ``^`` and keep the qualifier."""
    match = _CUSTOM.match(text)
    if not match:
        return []
    custom = match.group("custom")
    return [Candidate(f"{c.name}^{custom}", min(c.confidence, COMPOUND_CAP), f"{c.reason}; custom qualifier ^{custom}",
                      c.glued_side) for c in simple(match.group("core").strip())[:2] if "^" not in c.name]


def existing_non_dose(text: str) -> list[Candidate]:
    """A name already in TG-263's non-dose form (``zPTVopt``, ``_Ring``) stays as it is."""
    if _EXISTING_HELPER.match(text) and len(text) <= MAX_NAME_LENGTH:
        return [Candidate(text, EXISTING_HELPER_CONFIDENCE, "already a TG-263 non-dose name (z or _ prefix)")]
    return []


def non_dose(text: str, simple: SimpleResolver) -> list[Candidate]:
    """``ring PTV``, ``PTV opt``, ``avoid rectum``: helpers not used for dose evaluation get a ``z``."""
    if _EXISTING_HELPER.match(text):
        return []
    tokens = raw_tokens(_ATTACHED.sub(r"\1 \2", text))
    kinds = {NON_DOSE_WORDS[t] for t in tokens if t in NON_DOSE_WORDS}
    if len(kinds) != 1:
        return []
    kind = kinds.pop()
    rest = " ".join(t for t in tokens if t not in NON_DOSE_WORDS and t != "z")
    if not rest:
        return [Candidate("z" + kind.capitalize(), 0.7, f"non-dose helper '{kind}' of no named structure")]
    found = []
    for candidate in simple(rest)[:2]:
        name = _helper_name(kind, candidate.name)
        confidence = min(candidate.confidence, AUTO_LEVEL) if len(name) <= MAX_NAME_LENGTH else TOO_LONG_CAP
        found.append(Candidate(name, confidence, f"non-dose helper (z prefix, TG-263 rule 9) of {candidate.name} "
                               f"({candidate.reason})", candidate.glued_side))
    return found


def _helper_name(kind: str, inner: str) -> str:
    if kind == "opt":
        if _TARGET.match(inner):
            head, _, tail = inner.partition("_")
            return shorten_target(f"z{head}opt" + (f"_{tail}" if tail else ""))
        return shorten_target(f"zOpt_{inner}")
    return shorten_target(f"z{kind}_{inner}")


def subtraction(text: str, simple: SimpleResolver) -> list[Candidate]:
    """``Lungs minus GTV``, ``Body - PTV``, ``Kidney_L-GTV``: ``A-B`` when both parts resolve safely."""
    found: list[Candidate] = []
    for number, pattern in enumerate(_SPLITS):
        for match in pattern.finditer(text):
            left, right = text[: match.start()].strip(), text[match.end():].strip()
            found += _subtract(left, right, simple, bare=number == len(_SPLITS) - 1)
    return found


def _subtract(left: str, right: str, simple: SimpleResolver, bare: bool) -> list[Candidate]:
    if not left or not right or (bare and not _TARGET.match(right)):
        return []
    minuend, subtrahend = _confident(simple(left)), _confident(simple(right))
    if minuend is None or subtrahend is None:
        return []
    name = f"{minuend.name}-{subtrahend.name}"
    confidence = min(minuend.confidence, subtrahend.confidence, COMPOUND_CAP)
    reason = f"subtraction (TG-263 rule 8): {minuend.name} minus {subtrahend.name}"
    if len(name) > MAX_NAME_LENGTH:
        confidence, reason = min(confidence, TOO_LONG_CAP), reason + f"; longer than {MAX_NAME_LENGTH} characters"
    return [Candidate(name, confidence, reason, minuend.glued_side)]


def _confident(candidates: list[Candidate]) -> Candidate | None:
    return candidates[0] if candidates and candidates[0].confidence >= AUTO_LEVEL else None
