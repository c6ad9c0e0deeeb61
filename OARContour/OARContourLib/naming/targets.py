"""Target names (TG-263 §8.2): ``PTV 70Gy`` → ``PTV_7000``, ``ptv high`` → ``PTV_High``, ``GTV primary`` → ``GTVp``.

A target name is built in this order: type (``GTV``, ``CTV``, ``ITV``, ``IGTV``, ``ICTV``, ``PTV``,
``PTV!``), classifier without separator (``n``, ``p``, ``sb``, ``par``, ``v``, ``vas``), enumerator
(``PTV1``), structure indicator (``PTV_Eval``, ``CTV_Liver``), dose last: relative (``_High``,
``_Mid``, ``_Low``, ``_Mid01``) or numeric in cGy (``_5040``; a number below 100 or with a decimal
point is read as Gy), optionally ``x`` fractions, then a skin crop ``-08``. Over 16 characters,
underscores are deleted from the left.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .normalize import raw_tokens

MAX_NAME_LENGTH = 16
_TYPE = re.compile(r"^(?P<type>igtv|ictv|gtv|ctv|itv|ptv)(?P<bang>!)?", re.IGNORECASE)
_CLASSIFIER = re.compile(r"^(?P<cls>par|vas|sb|n|p|v)(?=$|[\d_\-\s./]|[A-Z])", re.IGNORECASE)
_CROP = re.compile(r"\s*-\s*(?P<crop>\d{1,2})\s*(?:mm)?\s*$", re.IGNORECASE)
_FRACTIONS = re.compile(r"^x(\d{1,2})$")
_ENUMERATOR_MAX = 20
_CGY_FROM = 100

CLASSIFIER_WORDS = {"primary": "p", "prim": "p", "nodal": "n", "node": "n", "nodes": "n", "ln": "n", "n": "n",
                    "p": "p"}
RELATIVE_DOSE_WORDS = {"high": "High", "hi": "High", "hd": "High", "mid": "Mid", "med": "Mid", "medium": "Mid",
                       "intermediate": "Mid", "int": "Mid", "md": "Mid", "low": "Low", "lo": "Low", "ld": "Low"}
INDICATOR_WORDS = {"eval": "Eval", "evaluation": "Eval"}
UNIT_GY = {"gy", "g"}
UNIT_CGY = {"cgy", "cg"}

IndicatorResolver = Callable[[list[str]], "str | None"]


@dataclass(frozen=True)
class TargetName:
    """A target name built from a clinical one, with how sure the parse is."""

    name: str
    confidence: float
    reason: str


@dataclass
class _Parts:
    head: str
    indicator: list[str]
    relative: str = ""
    dose_cgy: int | None = None
    fractions: str = ""
    unknown: int = 0


def parse_target(text: str, indicator: IndicatorResolver | None = None) -> TargetName | None:
    """The TG-263 target name for ``text``, or None when ``text`` does not start with a target type.

    Parameters
    ----------
    text
        Cleaned input (see :func:`.normalize.clean_text`), e.g. ``"PTV 50.4"``.
    indicator
        Resolves leftover words (``["liver"]``) to a structure indicator (``"Liver"``); without it,
        leftover words lower the confidence.
    """
    match = _TYPE.match(text)
    if not match:
        return None
    crop = _CROP.search(text)
    body = text[match.end(): crop.start()] if crop else text[match.end():]
    head = match.group("type").upper() + ("!" if match.group("bang") else "")
    classifier = _CLASSIFIER.match(body)
    if classifier:
        head += classifier.group("cls").lower()
        body = body[classifier.end():]
    parts = _Parts(head, [])
    _read_tokens(raw_tokens(body.lower()), parts, attached=bool(body[:1].isdigit()), indicator=indicator)
    if parts.unknown and re.fullmatch(r"[A-Za-z]+\d*", text[match.end():]):
        return None  # "Ptvxyz", "GTVs": a word that only starts like a target type
    name = _assemble(parts, crop.group("crop").zfill(2) if crop else "")
    return TargetName(name, _confidence(parts), _reason(parts))


def _read_tokens(tokens: list[str], parts: _Parts, attached: bool, indicator: IndicatorResolver | None) -> None:
    index = 0
    while index < len(tokens):
        token = tokens[index]
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        if _is_number(token):
            index += _read_number(tokens, index, parts, attached and index == 0)
            continue
        if token in CLASSIFIER_WORDS and parts.head[-1].isupper() and not parts.indicator:
            parts.head += CLASSIFIER_WORDS[token]
        elif token in RELATIVE_DOSE_WORDS:
            parts.relative = RELATIVE_DOSE_WORDS[token]
            if re.fullmatch(r"0\d", following):  # Mid01
                parts.relative += following.zfill(2)
                index += 1
        elif token in INDICATOR_WORDS:
            parts.indicator.append(INDICATOR_WORDS[token])
        elif (fractions := _FRACTIONS.match(token)) and parts.dose_cgy is not None:
            parts.fractions = "x" + fractions.group(1)
        else:
            parts.indicator.append(token)
        index += 1
    _resolve_indicator(parts, indicator)


def _read_number(tokens: list[str], index: int, parts: _Parts, attached: bool) -> int:
    """Read an enumerator or a dose starting at ``tokens[index]``; returns how many tokens were used."""
    value_text = tokens[index]
    used = 1
    following = tokens[index + 1] if index + 1 < len(tokens) else ""
    if re.fullmatch(r"p\d+", following) and value_text.isdigit():  # 50p4 = 50.4 Gy
        value_text, used = f"{value_text}.{following[1:]}", 2
        following = tokens[index + 2] if index + 2 < len(tokens) else ""
    unit = "gy" if following in UNIT_GY else "cgy" if following in UNIT_CGY else ""
    used += 1 if unit else 0
    value = float(value_text)
    if not unit and value_text.isdigit() and value < _ENUMERATOR_MAX and index == 0 and parts.dose_cgy is None:
        if attached or not parts.indicator:
            parts.head += str(int(value))
            return used
    if parts.dose_cgy is not None:
        parts.unknown += 1
        return used
    in_gy = unit == "gy" or (not unit and ("." in value_text or value < _CGY_FROM))
    parts.dose_cgy = int(round(value * 100)) if in_gy else int(round(value))
    return used


def _resolve_indicator(parts: _Parts, indicator: IndicatorResolver | None) -> None:
    words = [w for w in parts.indicator if w != "Eval"]
    fixed = [w for w in parts.indicator if w == "Eval"]
    if not words:
        return
    resolved = indicator(words) if indicator else None
    if resolved:
        parts.indicator = [resolved, *fixed]
    else:
        parts.indicator = [*(w.capitalize() for w in words), *fixed]
        parts.unknown += len(words)


def _assemble(parts: _Parts, crop: str) -> str:
    pieces = [parts.head, *parts.indicator]
    if parts.dose_cgy is not None:
        pieces.append(f"{parts.dose_cgy}{parts.fractions}")
    elif parts.relative:
        pieces.append(parts.relative)
    name = "_".join(pieces) + (f"-{crop}" if crop else "")
    return shorten_target(name)


def shorten_target(name: str) -> str:
    """TG-263 §8.2: over 16 characters, delete underscores from left to right."""
    while len(name) > MAX_NAME_LENGTH and "_" in name:
        name = name.replace("_", "", 1)
    return name


def _confidence(parts: _Parts) -> float:
    if parts.unknown:
        return max(0.3, 0.7 - 0.1 * (parts.unknown - 1))
    if parts.relative and parts.dose_cgy is not None:
        return 0.8
    return 0.93


def _reason(parts: _Parts) -> str:
    if parts.unknown:
        return "target name with words that are not TG-263 parts (check the structure indicator)"
    if parts.relative and parts.dose_cgy is not None:
        return "target with both a relative and a numeric dose; the numeric one (cGy) is used"
    return "target name built by TG-263 §8.2 (type, classifier, enumerator, indicator, dose)"


def _is_number(token: str) -> bool:
    return bool(re.fullmatch(r"\d+(?:\.\d+)?", token))
