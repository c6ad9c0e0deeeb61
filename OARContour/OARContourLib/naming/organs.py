"""Resolve the anatomical part of a name (side words already read) to TG-263 names.

The side rule is applied here, for every way a name can be found:

* a name that states a side only maps to names with that side (or, weakly, to a side-less name);
* a name without a side never maps to an ``_L``/``_R`` name; for a root that TG-263 only has with
  a side it may get the bilateral form (``Parotid`` → ``Parotids``), below the auto-apply level;
* ``Bilat``/``Both`` map to the bilateral form; ``ipsi``/``contra`` or both sides map to nothing.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from .index import Hit, MatchSource, NameIndex
from .laterality import Side, SideReading, glued_sides, split_side
from .normalize import canonical_tokens, compact_key

#: Confidence of a match of the normalised name, by where the key came from.
SOURCE_CONFIDENCE = {MatchSource.PRIMARY: 0.94, MatchSource.REVERSE: 0.93, MatchSource.ALIAS: 0.93,
                     MatchSource.TOTALSEGMENTATOR: 0.92, MatchSource.PREFIXLESS: 0.91,
                     MatchSource.LEVEL: 0.8, MatchSource.DESCRIPTION: 0.9}
REORDERED_PENALTY = 0.02
NOT_OFFICIAL_CAP = 0.85
AMBIGUOUS_CAP = 0.75
GLUED_SIDE_CONFIDENCE = 0.85
BILATERAL_GUESS_CONFIDENCE = 0.6
SIDE_DROPPED_CONFIDENCE = 0.5
FUZZY_CUTOFF = 0.78
FUZZY_SCALE = 0.85
#: Keys shorter than this are abbreviations ("rv", "lca"): a one-letter typo changes their meaning.
FUZZY_MIN_LENGTH = 4
#: Two different names whose confidences are this close are ambiguous.
AMBIGUITY_MARGIN = 0.025
_TIERS = (frozenset({MatchSource.PRIMARY, MatchSource.REVERSE, MatchSource.ALIAS, MatchSource.TOTALSEGMENTATOR}),
          frozenset({MatchSource.PREFIXLESS, MatchSource.LEVEL}), frozenset({MatchSource.DESCRIPTION}))


@dataclass(frozen=True)
class Candidate:
    """A possible TG-263 name for (part of) an input, with a confidence in 0..1 and why."""

    name: str
    confidence: float
    reason: str
    glued_side: bool = False


def resolve_organ(reading: SideReading, index: NameIndex, fuzzy: bool = True) -> list[Candidate]:
    """Candidates for the anatomical tokens of ``reading``, best first (may be empty)."""
    if reading.unknown:
        return []
    canonical = canonical_tokens(list(reading.tokens))
    if not canonical:
        return []
    direct, reordered = index.lookup(canonical)
    candidates = _mark_ambiguous(_from_hits(direct, reading, index, 0.0)
                                 + _from_hits(reordered, reading, index, REORDERED_PENALTY))
    if not candidates and len(reading.tokens) == 1 and reading.side is Side.NONE and not reading.bilateral:
        candidates = _glued(compact_key(canonical), index)
    if not candidates and fuzzy:
        candidates = _fuzzy(compact_key(canonical), reading, index)
    return best_first(candidates)


def _from_hits(hits: list[Hit], reading: SideReading, index: NameIndex, penalty: float) -> list[Candidate]:
    hits = _strongest(hits)
    if not hits:
        return []
    if reading.bilateral:
        return _bilateral(hits, index, penalty)
    if reading.side is Side.NONE:
        return _sideless(hits, index, penalty)
    return _sided(hits, reading.side, penalty)


def _strongest(hits: list[Hit]) -> list[Hit]:
    """Names, aliases and TotalSegmentator classes outrank prefix-less names, which outrank descriptions.

    The worksheet's descriptions have errors (``LN_Ax_Laterals`` is described as "pair of Lungs"), so
    a description only counts when no name claims the key.
    """
    for tier in _TIERS:
        found = [h for h in hits if h.source in tier]
        if found:
            return found
    return []


def _sided(hits: list[Hit], side: Side, penalty: float) -> list[Candidate]:
    same = [_candidate(h, penalty) for h in hits if h.side is side]
    if same:
        return same
    return [Candidate(h.name, SIDE_DROPPED_CONFIDENCE, f"{h.source.value} match, but the name states side {side.value} "
                      "and TG-263 has no sided form of it") for h in hits if h.side is Side.NONE]


def _sideless(hits: list[Hit], index: NameIndex, penalty: float) -> list[Candidate]:
    # "Whole Lung" is indexed for Lungs, but "Lung" also names Lung_L/Lung_R: without a side word
    # the bilateral form is a guess.
    guessed = {p for h in hits if (p := index.plural_of(h.name))}
    found = [_candidate(h, penalty) if h.name not in guessed else _guess(h.name)
             for h in hits if h.side is Side.NONE]
    if found:
        return found
    roots = {base for h in hits if (base := split_side(h.name)[0]) in index.names}
    if roots:  # "optic nerve" without a side: TG-263 has the side-less OpticNrv
        return [Candidate(root, round(max(SOURCE_CONFIDENCE[h.source] for h in hits) - penalty, 3),
                          "side-less TG-263 name of the structure") for root in sorted(roots)]
    return [_guess(p) for p in sorted(guessed)]


def _guess(plural: str) -> Candidate:
    return Candidate(plural, BILATERAL_GUESS_CONFIDENCE, "the name states no side; the bilateral form is only a "
                     "guess (a side is never guessed)")


def _bilateral(hits: list[Hit], index: NameIndex, penalty: float) -> list[Candidate]:
    sided = [h for h in hits if index.plural_of(h.name)]
    if sided:
        confidence = round(max(SOURCE_CONFIDENCE[h.source] for h in sided) - penalty, 3)
        return [Candidate(p, confidence, "bilateral form (the name says both sides)")
                for p in sorted({index.plural_of(h.name) or "" for h in sided})]
    plural_names = set(index.plurals.values())
    return [c if c.name in plural_names else
            Candidate(c.name, min(c.confidence, 0.8), c.reason + "; 'both sides' has no separate TG-263 name")
            for c in _sideless(hits, index, penalty)]


def _candidate(hit: Hit, penalty: float) -> Candidate:
    confidence = SOURCE_CONFIDENCE[hit.source] - penalty
    reason = f"normalised {hit.source.value}" + (" (word order ignored)" if penalty else "")
    if not hit.official:
        confidence = min(confidence, NOT_OFFICIAL_CAP)
        reason += "; not an official TG-263 name (needs clinical review)"
    return Candidate(hit.name, round(confidence, 3), reason)


def _mark_ambiguous(found: list[Candidate]) -> list[Candidate]:
    """Several different names at the strongest level: none of them may be applied automatically."""
    best: dict[str, Candidate] = {}
    for candidate in found:
        if candidate.name not in best or candidate.confidence > best[candidate.name].confidence:
            best[candidate.name] = candidate
    if not best:
        return []
    top = max(c.confidence for c in best.values())
    leaders = sorted(n for n, c in best.items() if c.confidence >= top - AMBIGUITY_MARGIN)
    if len(leaders) < 2:
        return list(best.values())
    note = f"; ambiguous: also matches {', '.join(leaders)}"
    return [Candidate(c.name, min(c.confidence, AMBIGUOUS_CAP), c.reason + note, c.glued_side)
            if c.name in leaders else c for c in best.values()]


def _glued(key: str, index: NameIndex) -> list[Candidate]:
    """``lkidney``, ``breastl``: a side glued to a name, accepted only when the rest is a sided root."""
    found = []
    for side, rest in glued_sides(key):
        hits = [h for h in index.compact.get(rest, ()) if h.side is side]
        found += [Candidate(h.name, GLUED_SIDE_CONFIDENCE, f"side '{side.value}' glued to the name; "
                            f"{h.source.value}", glued_side=True) for h in hits]
    return _mark_ambiguous(found)


def _fuzzy(key: str, reading: SideReading, index: NameIndex) -> list[Candidate]:
    """Typos: the nearest keys by edit similarity, always below the auto-apply level."""
    if len(key) < FUZZY_MIN_LENGTH:
        return []
    found = []
    keys = [k for k in index.compact if len(k) >= FUZZY_MIN_LENGTH]
    for close in difflib.get_close_matches(key, keys, n=4, cutoff=FUZZY_CUTOFF):
        ratio = difflib.SequenceMatcher(None, key, close).ratio()
        for candidate in _from_hits(index.compact[close], reading, index, 0.0):
            confidence = min(candidate.confidence, FUZZY_SCALE * ratio)
            found.append(Candidate(candidate.name, round(confidence, 3),
                                   f"spelling close to '{close}' ({ratio:.0%}); {candidate.reason}"))
    return found


def best_first(candidates: list[Candidate]) -> list[Candidate]:
    """One candidate per name (the most confident), sorted by confidence, then name."""
    best: dict[str, Candidate] = {}
    for candidate in candidates:
        if candidate.name not in best or candidate.confidence > best[candidate.name].confidence:
            best[candidate.name] = candidate
    return sorted(best.values(), key=lambda c: (-c.confidence, c.name))
