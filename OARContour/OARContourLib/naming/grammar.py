"""Split a TG-263 structure name into its parts: helper prefix, targets, PRV, ``~``, ``^`` and ``-``.

TG-263 builds names the tables do not list from names they do (AAPM Report 263, sections 7.2 and 8.2):

* ``SpinalCord_PRV05``, ``OpticNrv_PRV03_L``: a PRV with a 2-digit margin in mm, laterality after it
  (``OpticChiasm_PRV3`` drops a digit only when 2 would exceed 16 characters);
* ``Brain~``, ``Lung~_L``: a partial structure; ``Lungs^Ex``: a custom qualifier at the end;
* ``Lungs-GTV``: subtraction; ``PTV_Eval_7000-08``: a target cropped 8 mm from the skin;
* ``zPTVopt``, ``_Ring``: helpers not used for dose evaluation (free-form after the prefix);
* ``GTVp``, ``PTVn2_5040``, ``PTV!_High``: targets (type, classifier, enumerator, then ``_`` parts).

This module only parses exported-style names; it knows no table. :mod:`.validate` decides whether the
parts name known structures. (:mod:`.compound` builds such names from clinical input for the resolver.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Spatial qualifiers that go last in a name (rule 5), plus M (middle) used by the worksheet.
SPATIAL = frozenset({"L", "R", "A", "P", "I", "S", "M", "RUL", "RML", "RLL", "LUL", "LLL", "Prox", "Dist", "NAdj"})
LATERAL = frozenset({"L", "R"})
TARGET_RE = re.compile(
    r"^(?P<type>PTV!|IGTV|ICTV|GTV|CTV|ITV|PTV)(?P<classifier>par|vas|sb|n|p|v)?(?P<enumerator>\d{1,2})?(?P<rest>.*)$"
)
PRV_RE = re.compile(r"_PRV(?P<margin>\d*)(?=_|~|$)")
DOSE_WITH_POINT = re.compile(r"^\d+\.\d+Gy$")
TOKEN = re.compile(r"^[A-Za-z0-9]+$")
HELPER = re.compile(r"^(z(?=[A-Z0-9_])|_)")

SPECIAL = "NAME_SPECIAL_CHARACTER"
ORDER = "NAME_QUALIFIER_ORDER"
PRV_FORMAT = "NAME_PRV_FORMAT"


@dataclass(frozen=True)
class Problem:
    """A syntax problem found while parsing (a finding code and a sentence)."""

    code: str
    message: str


@dataclass(frozen=True)
class Operand:
    """One operand of a (possibly subtracted) name.

    ``base`` is the text without ``~`` and the PRV tag: the name to look up in the tables
    (``OpticNrv_PRV03_L`` → ``OpticNrv_L``). ``prv_margin`` is None without a PRV tag, ``""`` for a
    bare ``_PRV`` and the digits otherwise.
    """

    text: str
    base: str
    target_type: str | None = None
    partial: bool = False
    prv_margin: str | None = None

    @property
    def is_target(self) -> bool:
        return self.target_type is not None


@dataclass(frozen=True)
class CompoundName:
    """A parsed name: prefix, operands (minuend first), crop, custom suffix and syntax problems."""

    name: str
    helper_prefix: str
    operands: tuple[Operand, ...]
    crop_mm: int | None
    custom_suffix: str | None
    problems: tuple[Problem, ...]

    @property
    def first(self) -> Operand:
        return self.operands[0]

    @property
    def is_helper(self) -> bool:
        return bool(self.helper_prefix)

    @property
    def is_plain(self) -> bool:
        """No compound syntax at all: one operand, no prefix, PRV, ``~``, ``^``, ``-`` or crop."""
        op = self.first
        return (len(self.operands) == 1 and not self.helper_prefix and self.custom_suffix is None
                and self.crop_mm is None and not op.partial and op.prv_margin is None)


def parse_compound(name: str) -> CompoundName:
    """Parse ``name`` into its TG-263 parts; problems are listed, never raised.

    Parameters
    ----------
    name
        A structure name, assumed already free of spaces and non-ASCII characters.

    Returns
    -------
    CompoundName
        Always at least one operand (possibly empty text when the name is malformed).
    """
    problems: list[Problem] = []
    prefix_match = HELPER.match(name)
    prefix = prefix_match.group(0) if prefix_match else ""
    core, custom = _split_custom(name[len(prefix):], problems)
    texts = core.split("-")
    if any(not t for t in texts):
        problems.append(Problem(SPECIAL, f"'{name}': '-' must stand between two names (subtraction) or before a "
                                         "crop in mm at the end"))
        texts = [t for t in texts if t] or [""]
    crop = None
    if len(texts) > 1 and texts[-1].isdigit():
        crop = int(texts.pop())
    operands = tuple(_parse_operand(t, problems) for t in texts)
    if crop is not None and not operands[0].is_target:
        problems.append(Problem(SPECIAL, f"'{name}': a crop in mm ('-{crop:02d}') belongs after a target name"))
    return CompoundName(name, prefix, operands, crop, custom, tuple(problems))


def _split_custom(body: str, problems: list[Problem]) -> tuple[str, str | None]:
    if "^" not in body:
        return body, None
    core, _, custom = body.partition("^")
    if "^" in custom or not custom or not re.fullmatch(r"[A-Za-z0-9_]+", custom):
        problems.append(Problem(SPECIAL, f"'^' introduces one custom qualifier of letters and digits at the end, "
                                         f"not '^{custom}'"))
    return core, custom


def _parse_operand(text: str, problems: list[Problem]) -> Operand:
    target = TARGET_RE.match(text)
    if target:
        _check_target_rest(text, target.group("rest"), problems)
        return Operand(text, text, target_type=target.group("type").rstrip("!"))
    if "!" in text or "." in text:
        problems.append(Problem(SPECIAL, f"'{text}': '!' is only used in 'PTV!' and '.' only in a dose such as "
                                         "'50.4Gy' (prefer '50p4Gy')"))
    base, partial = _strip_partial(text, problems)
    base, margin = _strip_prv(base, text, problems)
    return Operand(text, base, partial=partial, prv_margin=margin)


def _check_target_rest(text: str, rest: str, problems: list[Problem]) -> None:
    if "!" in rest or "~" in rest:
        problems.append(Problem(SPECIAL, f"'{text}': '!' is only used as 'PTV!' and targets are not partial ('~')"))
        return
    parts = rest.split("_")
    if parts[0] == "":
        parts = parts[1:]
    for part in parts:
        if not (TOKEN.match(part) or DOSE_WITH_POINT.match(part)):
            problems.append(Problem(SPECIAL, f"'{text}': target parts are letters and digits separated by one "
                                             f"'_' ('.' only in a dose such as 50.4Gy), not '{part}'"))
            return


def _strip_partial(text: str, problems: list[Problem]) -> tuple[str, bool]:
    if "~" not in text:
        return text, False
    before, _, after = text.partition("~")
    if "~" in after or (after and not after.startswith("_")):
        problems.append(Problem(SPECIAL, f"'{text}': '~' marks a partial structure once, right after the root"))
    elif _ends_with_spatial(before):
        problems.append(Problem(ORDER, f"'{text}': '~' goes before the laterality, e.g. 'Lung~_L'"))
    elif after and not _all_qualifiers(after):
        problems.append(Problem(ORDER, f"'{text}': only laterality, spatial qualifiers or a PRV tag may follow '~'"))
    return before + after, True


def _strip_prv(base: str, text: str, problems: list[Problem]) -> tuple[str, str | None]:
    matches = list(PRV_RE.finditer(base))
    if not matches:
        return base, None
    if len(matches) > 1:
        problems.append(Problem(PRV_FORMAT, f"'{text}': one PRV tag per name"))
    match = matches[0]
    before, after, margin = base[:match.start()], base[match.end():], match.group("margin")
    if len(margin) > 2:
        problems.append(Problem(PRV_FORMAT, f"'{text}': the PRV margin has at most 2 digits (mm), e.g. _PRV05"))
    if _ends_with_spatial(before.rstrip("~")) and before.rsplit("_", 1)[-1] in LATERAL:
        problems.append(Problem(ORDER, f"'{text}': laterality goes after the PRV tag, e.g. 'OpticNrv_PRV03_L'"))
    elif after and not _all_qualifiers(after):
        problems.append(Problem(ORDER, f"'{text}': only laterality or spatial qualifiers may follow the PRV tag"))
    return before + after, margin


def _ends_with_spatial(text: str) -> bool:
    return "_" in text and text.rsplit("_", 1)[-1] in SPATIAL


def _all_qualifiers(suffix: str) -> bool:
    """True for a suffix like '_L' or '_PRV05_L' that holds only qualifiers (and at most a PRV tag)."""
    tokens = [t for t in suffix.split("_") if t]
    return all(t in SPATIAL or re.fullmatch(r"PRV\d*", t) for t in tokens)


def prv_margin_problem(name: str, margin: str) -> Problem | None:
    """A 1-digit PRV margin is only allowed when 2 digits would make the name longer than 16."""
    if len(margin) == 1 and len(name) + 1 <= 16:
        return Problem(PRV_FORMAT, f"'{name}': write the PRV margin with 2 digits (e.g. _PRV0{margin}); one digit "
                                   "only when two would exceed 16 characters")
    return None
