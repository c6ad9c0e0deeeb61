"""The lookup index the resolver searches: every TG-263 name under every key it may be typed as.

Built once per :class:`~.tables.NamingTables` from the primary and reverse-order names, the
aliases, the worksheet descriptions (side words removed: the worksheet's descriptions name the
wrong side for some rows, so a side is only ever taken from the name), the TotalSegmentator class
names, and primary names without their category prefix (``Bone_Mandible`` under ``mandible``).
A key never contains a side: the side travels beside it in each :class:`Hit`.
"""

from __future__ import annotations

import enum
import re
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .laterality import BILATERAL_WORDS, LEFT_WORDS, RIGHT_WORDS, Side, read_side, side_of_name, split_side
from .normalize import canonical_tokens, compact_key, literal_key, raw_tokens, sorted_key

if TYPE_CHECKING:
    from .tables import NamingTables

SIDE_PLACEHOLDER = "{side}"
#: TG-263 category prefixes (rule 6) that clinicians leave out: "Mandible" for ``Bone_Mandible``.
CATEGORY_PREFIXES = frozenset({"a", "v", "ln", "cn", "glnd", "bone", "musc", "spc"})
_MIN_PREFIXLESS_KEY = 4
_MAX_DESCRIPTION_TOKENS = 5
_INDEXED_KINDS = frozenset({"official", "official_unconfirmed"})
_LEVEL = re.compile(r"[CTLS]\d{1,2}")


class MatchSource(str, enum.Enum):
    """Where an index key came from, strongest first."""

    PRIMARY = "primary name"
    REVERSE = "reverse-order name"
    ALIAS = "alias"
    TOTALSEGMENTATOR = "TotalSegmentator class"
    PREFIXLESS = "name without its category prefix"
    LEVEL = "vertebral level without VB"
    DESCRIPTION = "worksheet description"


@dataclass(frozen=True)
class Hit:
    """One name found under a key, with its side and where the key came from."""

    name: str
    side: Side
    source: MatchSource
    official: bool = True


@dataclass
class NameIndex:
    """Keys → hits. ``literal`` keys are whole names as typed (case-insensitive); ``compact`` and
    ``ordered`` keys are side-free canonical tokens (joined, and sorted)."""

    literal: dict[str, list[Hit]] = field(default_factory=lambda: defaultdict(list))
    compact: dict[str, list[Hit]] = field(default_factory=lambda: defaultdict(list))
    ordered: dict[str, list[Hit]] = field(default_factory=lambda: defaultdict(list))
    plurals: dict[str, str] = field(default_factory=dict)
    names: frozenset[str] = frozenset()

    def add_literal(self, text: str, name: str, source: MatchSource, official: bool = True) -> Hit:
        """Index ``name`` under ``text`` as written (ignoring case and spacing) only."""
        hit = Hit(name, side_of_name(name), source, official)
        self.literal[literal_key(text)].append(hit)
        return hit

    def add(self, text: str, name: str, source: MatchSource, official: bool = True, keep_side: bool = False) -> None:
        """Index ``name`` under the keys of ``text`` (``keep_side``: ``text`` is a name whose side words are part of it)."""
        hit = self.add_literal(text, name, source, official)
        tokens = raw_tokens(text)
        reading = read_side(tokens)
        if reading.bilateral and not keep_side:
            return  # "Lung Total" → Lungs: without "total", "Lung" would wrongly mean Lungs
        if hit.side is not Side.NONE or not keep_side:
            tokens = list(reading.tokens)
        canonical = canonical_tokens(tokens)
        if canonical:
            self.compact[compact_key(canonical)].append(hit)
            self.ordered[sorted_key(canonical)].append(hit)
        spelled = compact_key(canonical_tokens(tokens, abbreviate=False))
        if spelled and spelled != compact_key(canonical):  # "opticnerve" typed as one word
            self.compact[spelled].append(hit)

    def lookup(self, canonical: list[str]) -> tuple[list[Hit], list[Hit]]:
        """Hits of the joined key, and hits found only when word order is ignored."""
        direct = list(self.compact.get(compact_key(canonical), ()))
        reordered = [h for h in self.ordered.get(sorted_key(canonical), ()) if h not in direct]
        return direct, reordered

    def plural_of(self, name: str) -> str | None:
        """The bilateral (plural) name of a sided name's root: ``Parotid_L`` → ``Parotids``."""
        base, side = split_side(name)
        return self.plurals.get(base) if side is not Side.NONE else None


def build_index(tables: NamingTables) -> NameIndex:
    """Index every official name of ``tables`` under all its keys."""
    index = NameIndex()
    official = {n: e for n, e in tables.names.items() if e.kind in _INDEXED_KINDS}
    index.names = frozenset(official)
    for name, entry in official.items():
        index.add(name, name, MatchSource.PRIMARY, keep_side=True)
        if entry.reverse_name and entry.reverse_name != name:
            index.add(entry.reverse_name, name, MatchSource.REVERSE, keep_side=True)
        _add_prefixless(index, name)
        _add_description(index, name, entry.description)
    for alias in tables.aliases:
        for name in _alias_targets(alias.tg263_name, tables):
            index.add(alias.alias, name, MatchSource.ALIAS, official=tables.is_official(name))
    for mapping in tables.ts_map:
        if not mapping.tg263_name:
            continue
        is_official = tables.is_official(mapping.tg263_name)
        if "+" in mapping.ts_class or mapping.status == "approximate":
            # Unions ("eye_left+eye_right") and approximate concepts ("hip_left" → Bone_Pelvic_L) are
            # TotalSegmentator's own labels: matched as written, never by their words.
            index.add_literal(mapping.ts_class, mapping.tg263_name, MatchSource.TOTALSEGMENTATOR, is_official)
        else:
            index.add(mapping.ts_class, mapping.tg263_name, MatchSource.TOTALSEGMENTATOR, is_official)
    index.plurals = _plurals(official)
    return index


def _alias_targets(target: str, tables: NamingTables) -> list[str]:
    if SIDE_PLACEHOLDER not in target:
        return [target]
    return [target.replace(SIDE_PLACEHOLDER, side.value) for side in (Side.LEFT, Side.RIGHT)
            if target.replace(SIDE_PLACEHOLDER, side.value) in tables.names]


def _add_prefixless(index: NameIndex, name: str) -> None:
    head, _, rest = name.partition("_")
    if head == "VB" and _LEVEL.fullmatch(rest):  # "C1" may be the vertebra, or not: never certain
        index.add(rest, name, MatchSource.LEVEL, keep_side=True)
        return
    if head.lower() in CATEGORY_PREFIXES and rest:
        key_tokens = canonical_tokens(list(read_side(raw_tokens(rest)).tokens))
        if len(compact_key(key_tokens)) >= _MIN_PREFIXLESS_KEY:
            index.add(rest, name, MatchSource.PREFIXLESS)


def _add_description(index: NameIndex, name: str, description: str) -> None:
    """Descriptions are English names ("Optic nerve"); side and "both" words are dropped from them."""
    tokens = [t for t in raw_tokens(description)
              if t not in LEFT_WORDS and t not in RIGHT_WORDS and t not in BILATERAL_WORDS]
    if tokens and len(canonical_tokens(tokens)) <= _MAX_DESCRIPTION_TOKENS:
        index.add(" ".join(tokens), name, MatchSource.DESCRIPTION)


def _plurals(official: Collection[str]) -> dict[str, str]:
    """Root of each sided name → its bilateral form, when TG-263 has one (``Hippocampus`` → ``Hippocampi``)."""
    plurals: dict[str, str] = {}
    for name in official:
        base, side = split_side(name)
        if side is Side.NONE or base in plurals:
            continue
        for plural in (base + "s", base + "es", base[:-2] + "i", base[:-1] + "ies"):
            if plural in official and plural != base:
                plurals[base] = plural
                break
    return plurals


_CACHE: dict[int, tuple[NamingTables, NameIndex]] = {}


def index_for(tables: NamingTables) -> NameIndex:
    """The index of ``tables``, built on first use (tables are immutable, so it is cached)."""
    cached = _CACHE.get(id(tables))
    if cached is None or cached[0] is not tables:
        if len(_CACHE) > 8:
            _CACHE.clear()
        cached = (tables, build_index(tables))
        _CACHE[id(tables)] = cached
    return cached[1]
