"""Suggest TG-263 names for clinical structure names, with a confidence and a reason.

``suggest("Lt Parotid")`` → ``[Suggestion("Parotid_L", 0.94, "normalised primary name")]``.

Pipeline (naming.md §4): institution overrides, then exact primary / reverse / alias /
TotalSegmentator matches, then normalised matches (case, separators, word order, side words,
abbreviations), built names (targets with doses, PRVs, partial ``~``, custom ``^``, subtraction
``-``, ``z`` helpers), and last typo-tolerant matches. Only suggestions at or above
:data:`AUTO_APPLY_CONFIDENCE` may be applied without a human; fuzzy matches never reach it.

Safety rules, enforced for every suggestion except institution overrides:

* a side is never guessed: a name without a side never maps to an ``_L``/``_R`` name;
* a name with a side never maps to the other side;
* meaningless, ambiguous or non-ASCII input gets nothing at or above the auto-apply level.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .compound import custom_qualifier, existing_non_dose, non_dose, subtraction
from .index import MatchSource, NameIndex, index_for
from .laterality import Side, glued_sides, read_side, side_of_name
from .markers import compose, describe, extract_markers
from .normalize import clean_text, literal_key, raw_tokens
from .organs import BILATERAL_GUESS_CONFIDENCE, NOT_OFFICIAL_CAP, Candidate, best_first, resolve_organ
from .reverse_order import reverse_order_name
from .targets import parse_target

if TYPE_CHECKING:
    from .overrides import Overrides
    from .tables import NamingTables

logger = logging.getLogger(__name__)

#: Suggestions at or above this confidence may be applied without a human (``names rename``).
AUTO_APPLY_CONFIDENCE = 0.9
NON_ASCII_CAP = 0.85
ALREADY_TG263_CONFIDENCE = 0.98
ALREADY_VALID_CONFIDENCE = 0.96
PREFERRED_FORM_CAP = 0.85
_TARGET_TYPE = re.compile(r"^(?:IGTV|ICTV|GTV|CTV|ITV|PTV)", re.IGNORECASE)
LITERAL_CONFIDENCE = {MatchSource.PRIMARY: 0.98, MatchSource.REVERSE: 0.97, MatchSource.ALIAS: 0.96,
                      MatchSource.TOTALSEGMENTATOR: 0.96, MatchSource.PREFIXLESS: 0.95,
                      MatchSource.LEVEL: 0.8, MatchSource.DESCRIPTION: 0.93}


@dataclass(frozen=True)
class Suggestion:
    """One suggested TG-263 name.

    Attributes
    ----------
    name : str
        The suggested name.
    confidence : float
        0..1; at or above :data:`AUTO_APPLY_CONFIDENCE` it may be applied automatically.
    reason : str
        Why it was suggested (which table, which rule), for the person reviewing it.
    """

    name: str
    confidence: float
    reason: str

    @property
    def auto_apply(self) -> bool:
        return self.confidence >= AUTO_APPLY_CONFIDENCE

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "confidence": round(self.confidence, 3), "reason": self.reason}


def suggest(name: str, tables: NamingTables | None = None, overrides: Overrides | None = None, limit: int = 5,
            reverse_order: bool = False) -> list[Suggestion]:
    """TG-263 names for a clinical structure name, best first.

    Parameters
    ----------
    name
        The name as found (``"Lt Parotid"``, ``"Cord PRV 5mm"``, ``"PTV 70Gy"``, ``"kidney_left"``).
    tables
        Naming tables; default :func:`~.tables.load_tables`.
    overrides
        An institution's local-name table (:func:`~.overrides.load_overrides`); its exact local
        names win with confidence 1.0.
    limit
        At most this many suggestions.
    reverse_order
        Return reverse-order names (``L_Parotid``) for systems that show few characters.

    Returns
    -------
    list of Suggestion
        Best first; empty when nothing plausible was found. Never raises for odd input.
    """
    text = clean_text(name)
    if not text or limit <= 0:
        return []
    if tables is None:
        from .tables import load_tables

        tables = load_tables()
    found = overrides.candidates(text) if overrides is not None else []
    if not found or found[0].confidence < 1.0:
        found += _side_safe(text, _resolve(text, index_for(tables)))
        found += _already_valid(name, tables, found)
    ranked = best_first(found)[:limit]
    if not name.isascii():
        ranked = [Candidate(c.name, min(c.confidence, NON_ASCII_CAP), c.reason + "; the name has non-ASCII characters")
                  for c in ranked]
    if reverse_order:
        ranked = [Candidate(reverse_order_name(c.name, tables), c.confidence, c.reason + "; reverse-order form")
                  for c in ranked]
    logger.debug("suggest %r: %s", text, [(c.name, c.confidence) for c in ranked])
    return [Suggestion(c.name, c.confidence, c.reason) for c in ranked]


def _already_valid(name: str, tables: NamingTables, found: list[Candidate]) -> list[Candidate]:
    """A name the validator accepts as written (``GTV_Mass_CT``) is a suggestion for itself.

    Targets are the exception: ``PTV70`` or ``PTV_low`` pass the validator, but the TG-263 form the
    target rules build (``PTV_7000``, ``PTV_Low``) is preferred when it was built confidently.
    """
    from .validate import is_valid_compound

    if name != name.strip() or not name.isascii() or not is_valid_compound(name, tables):
        return []
    preferred = [c.name for c in found if c.confidence >= AUTO_APPLY_CONFIDENCE and c.name != name]
    if preferred and _TARGET_TYPE.match(name):
        return [Candidate(name, PREFERRED_FORM_CAP, f"valid as written, but TG-263 prefers {preferred[0]}")]
    return [Candidate(name, ALREADY_VALID_CONFIDENCE, "already a valid TG-263 name")]


def _resolve(text: str, index: NameIndex) -> list[Candidate]:
    """Exact and built names; typo-tolerant matches only when nothing could be applied automatically."""
    found = _literal(text, index) + _structured(text, index, compounds=True, fuzzy=False)
    if not any(c.confidence >= AUTO_APPLY_CONFIDENCE for c in found):
        found += _structured(text, index, compounds=True, fuzzy=True)
    return found


def _literal(text: str, index: NameIndex) -> list[Candidate]:
    """The input is itself a name, alias or TotalSegmentator class (ignoring case and spacing)."""
    stated = read_side(raw_tokens(text)).side
    hits = [h for h in index.literal.get(literal_key(text), ()) if h.source is not MatchSource.DESCRIPTION]
    # Descriptions are matched by tokens, ranked below names (organs._strongest). A hit for another
    # side means the words name a lateral structure: then only the name itself may be certain.
    lateral = any(h.side is not Side.NONE and h.side is not stated for h in hits)
    found = []
    for hit in hits:
        if hit.side is not Side.NONE and hit.side is not stated:
            continue
        confidence = 1.0 if hit.source is MatchSource.PRIMARY and hit.name == text else LITERAL_CONFIDENCE[hit.source]
        reason = "TG-263 primary name" if confidence == 1.0 else f"exact {hit.source.value}"
        if not hit.official:
            confidence, reason = min(confidence, NOT_OFFICIAL_CAP), reason + "; not an official TG-263 name"
        if lateral and stated is Side.NONE and hit.source not in (MatchSource.PRIMARY, MatchSource.REVERSE):
            confidence = min(confidence, BILATERAL_GUESS_CONFIDENCE)
            reason += "; the words also name a lateral structure and no side is stated"
        found.append(Candidate(hit.name, confidence, reason))
    return found


def _structured(text: str, index: NameIndex, compounds: bool, fuzzy: bool) -> list[Candidate]:
    """Names built by the TG-263 rules from the parts the input states."""
    found = existing_non_dose(text)

    def simple(part: str) -> list[Candidate]:
        return best_first(_literal(part, index) + _structured(part, index, False, fuzzy))

    if compounds:
        found += custom_qualifier(text, simple) + non_dose(text, simple) + subtraction(text, simple)
    target = parse_target(text, indicator=lambda words: _indicator(words, index))
    if target is not None:
        if target.name == text and target.confidence >= AUTO_APPLY_CONFIDENCE:
            found.append(Candidate(target.name, ALREADY_TG263_CONFIDENCE, "already a TG-263 target name"))
        else:
            found.append(Candidate(target.name, target.confidence, target.reason))
        return found
    markers, rest = extract_markers(text)
    for organ in resolve_organ(read_side(raw_tokens(rest)), index, fuzzy=fuzzy):
        composed = compose(organ.name, markers)
        reason = organ.reason + (f"; {describe(markers)}" if markers.any else "")
        confidence = organ.confidence
        if composed.problem:
            confidence, reason = min(confidence, 0.6), reason + f"; {composed.problem}"
        elif markers.any and composed.name == text and organ.confidence >= AUTO_APPLY_CONFIDENCE:
            confidence, reason = ALREADY_TG263_CONFIDENCE, "already a TG-263 name built by its rules"
        elif markers.any:
            confidence = min(confidence, 0.95)
        found.append(Candidate(composed.name, confidence, reason, organ.glued_side))
    return found


def _indicator(words: list[str], index: NameIndex) -> str | None:
    """A target's structure indicator (``PTV liver`` → ``Liver``), only when resolved confidently."""
    candidates = resolve_organ(read_side(words), index, fuzzy=False)
    if candidates and candidates[0].confidence >= AUTO_APPLY_CONFIDENCE:
        return candidates[0].name
    return None


def _side_safe(text: str, candidates: list[Candidate]) -> list[Candidate]:
    """The last guard: drop any suggestion whose side the input does not state."""
    reading = read_side(raw_tokens(text))
    glued = {side for token in reading.tokens for side, _ in glued_sides(token)}
    safe = []
    for candidate in candidates:
        side = side_of_name(candidate.name)
        if side is Side.NONE or side is reading.side or (candidate.glued_side and side in glued and
                                                           reading.side is Side.NONE and not reading.unknown):
            safe.append(candidate)
        else:
            logger.debug("dropped %s for %r: side %s not stated", candidate.name, text, side.value)
    return safe
