"""Normalise structure names into comparable tokens and keys.

A clinical name such as ``"Lt. Optic-Nerve"`` or ``"OpticNerve_L"`` becomes lower-case tokens
(``["optic", "nrv", ...]``): separators (space ``_ - . /``) and punctuation split, CamelCase splits,
digits split from words, and English words are mapped onto the abbreviations TG-263 itself uses
(``nerve`` → ``nrv``, ``gland`` → ``glnd``). Keys built from the tokens compare names regardless of
case, separators and word order. Laterality is handled by :mod:`.laterality`, not here.
"""

from __future__ import annotations

import re
import unicodedata

#: Longest input worth resolving: ROI Name is LO (64 characters); longer text is not a name.
MAX_INPUT_LENGTH = 64

#: Tokens: a vertebra or level (``T12``, ``L1``), a decimal number, a CamelCase word, an all-capital run.
_TOKEN = re.compile(r"(?<![A-Za-z])[A-Za-z]\d+(?![.,]\d)|\d+(?:[.,]\d+)?|[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")
_LEVEL = re.compile(r"^([a-z])0*(\d+)$")

#: English words → the abbreviation TG-263 uses for them (its name roots are built from these).
ABBREVIATIONS: dict[str, str] = {
    "nerve": "nrv", "nerves": "nrvs", "gland": "glnd", "glands": "glnds", "muscle": "musc", "muscles": "musc",
    "artery": "a", "arteries": "a", "vein": "v", "veins": "v", "plexus": "plex", "plexuses": "plexs",
    "external": "ext", "internal": "int", "inferior": "i", "superior": "s", "proximal": "prox", "distal": "dist",
    "axillary": "ax", "axilla": "ax", "cartilage": "cartlg", "ligament": "lig", "process": "proc",
    "cistern": "cist", "surface": "surf", "circumflex": "cflx", "supraclavicular": "sclav",
    "submandibular": "submand", "sublingual": "subling", "maxillary": "maxilry", "vesicle": "ves",
    "vesicles": "ves", "vessels": "ves", "vessel": "ves", "constrictor": "constrict", "constrictors": "constrict",
    "space": "spc", "bronchopulmonary": "bronchpulm", "laryngeal": "laryngl", "subscapular": "subscap",
    "inguinofemoral": "inguinofem", "oesophagus": "esophagus", "oesophageal": "esophagus",
    "esophageal": "esophagus", "lymph": "ln", "node": "ln", "nodes": "ln", "nodal": "ln", "lymphnode": "ln",
    "lymphnodes": "ln", "vertebra": "vb", "vertebrae": "vbs", "vertebral": "vb", "chiasma": "chiasm",
    "globe": "eye", "eyeball": "eye", "eyeballs": "eyes", "globes": "eyes", "tempmand": "tmj",
    "temporomandibular": "tm", "sternocleidomastoid": "sclmast", "subglottic": "sg", "hypothalamus": "hypothalmus",
    "hippo": "hippocampus", "hippocampal": "hippocampus",
}

#: Words that carry no meaning for matching (articles, "volume", "structure" and the like).
STOPWORDS = frozenset({"of", "the", "and", "for", "whole", "any", "volume", "pair", "set", "contour",
                       "structure", "roi", "organ", "oar", "in", "on", "to", "with", "entire", "female", "male"})


def clean_text(name: str) -> str:
    """Strip, fold accents to ASCII where possible and collapse whitespace.

    Parameters
    ----------
    name
        A raw structure name as typed in a planning system.

    Returns
    -------
    str
        The cleaned text; ``""`` when nothing usable remains (empty, too long, not text).
    """
    if not isinstance(name, str):
        return ""
    text = " ".join(name.split())
    if not text or len(text) > MAX_INPUT_LENGTH:
        return ""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return text if any(c.isalnum() for c in text) else ""


def raw_tokens(text: str) -> list[str]:
    """Lower-case tokens of ``text`` split at separators, punctuation, CamelCase and digits."""
    return [t.lower().replace(",", ".") for t in _TOKEN.findall(text)]


def canonical_token(token: str, abbreviate: bool = True) -> str:
    """One token in canonical form: abbreviated, leading zeros dropped (``t07`` → ``t7``, ``05`` → ``5``)."""
    token = ABBREVIATIONS.get(token, token) if abbreviate else token
    level = _LEVEL.match(token)
    if level:
        return level.group(1) + level.group(2)
    if token.isdigit():
        return str(int(token))
    return token


def canonical_tokens(tokens: list[str], abbreviate: bool = True) -> list[str]:
    """Canonical tokens without stop words and without immediate repeats (``lymph node`` → ``ln``)."""
    result: list[str] = []
    for token in tokens:
        if token in STOPWORDS:
            continue
        canonical = canonical_token(token, abbreviate)
        if canonical and (not result or result[-1] != canonical):
            result.append(canonical)
    return result


def compact_key(tokens: list[str]) -> str:
    """Tokens joined without separators: ``["spinal", "cord"]`` and ``["spinalcord"]`` give one key."""
    return "".join(tokens)


def sorted_key(tokens: list[str]) -> str:
    """Tokens in alphabetical order: the key that ignores word order (``Bowel Large`` = ``Large Bowel``)."""
    return " ".join(sorted(tokens))


def literal_key(text: str) -> str:
    """Case- and whitespace-insensitive literal form used for exact matches of names and aliases."""
    return " ".join(text.split()).casefold()
