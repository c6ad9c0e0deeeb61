"""Check structure names against TG-263 (AAPM Report 263) and a planning-system profile.

Errors (severity ``error``) are what naming.md §2 says must block an export: empty, over 16
characters, spaces, non-ASCII or other characters outside ``[A-Za-z0-9_]``, special characters used
without their meaning (``-`` subtraction/crop, ``~`` partial, ``^`` custom suffix, ``!`` only in
``PTV!``, ``.`` only in ``xx.xGy``), worksheet templates with placeholders, and whatever the TPS
profile forbids. Warnings are TG-263 conformance a person should look at: not a TG-263 name,
capitalisation, PRV margin format, qualifier order, unconfirmed (mCODE) or constructed names.

Codes: ``NAME_EMPTY``, ``NAME_TOO_LONG``, ``NAME_TOO_LONG_FOR_TPS``, ``NAME_SPACES``,
``NAME_CHARACTERS``, ``NAME_CHARACTERS_FOR_TPS``, ``NAME_SPECIAL_CHARACTER``, ``NAME_TEMPLATE``,
``NAME_CAPITALISATION``, ``NAME_PRV_FORMAT``, ``NAME_QUALIFIER_ORDER``, ``NAME_NOT_TG263``,
``NAME_UNCONFIRMED``, ``NAME_CONSTRUCTED``; :func:`check_unique` adds ``DUPLICATE_ROI_NAME`` and
``NAME_SIMILAR``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from ..finding_codes import FindingCode
from ..findings import Finding, Severity
from ..name_rules import duplicate_groups, name_key
from ..rtstruct.profiles import TPSProfile, load_profile
from .entries import UNCONFIRMED
from .grammar import ORDER, PRV_FORMAT, SPECIAL, CompoundName, Operand, parse_compound, prv_margin_problem
from .tables import NamingTables, load_tables

MAX_LENGTH = 16
ALLOWED = re.compile(r"[A-Za-z0-9_~^!.\-]")
ERROR_CODES = frozenset({"NAME_EMPTY", "NAME_TOO_LONG", "NAME_TOO_LONG_FOR_TPS", "NAME_SPACES", "NAME_CHARACTERS",
                         "NAME_CHARACTERS_FOR_TPS", SPECIAL, "NAME_TEMPLATE", FindingCode.DUPLICATE_ROI_NAME.code})
#: Findings that still leave a name a valid TG-263 name or compound (they are about provenance).
INFORMATIONAL = frozenset({"NAME_UNCONFIRMED", "NAME_CONSTRUCTED"})
HINTS = {
    "NAME_EMPTY": "Name the structure (TG-263 primary name, e.g. 'SpinalCord').",
    "NAME_SPACES": "TG-263 names have no spaces: '_' separates categories (e.g. 'Parotid_L').",
    "NAME_CHARACTERS": "Use ASCII letters, digits and '_' (plus - ~ ^ ! . only with their TG-263 meaning).",
    "NAME_SPECIAL_CHARACTER": "'-' subtracts or crops, '~' marks partial, '^' a custom suffix, '!' only PTV!, "
                              "'.' only in a dose such as 50.4Gy (prefer 50p4Gy).",
    "NAME_TEMPLATE": "Replace the x/xx/xxxx placeholder, e.g. SpinalCord_PRVxx → SpinalCord_PRV05.",
    "NAME_CAPITALISATION": "Each TG-263 category starts with a capital; use the exact spelling of the table.",
    "NAME_PRV_FORMAT": "PRV: <root>_PRV<2-digit margin mm>, laterality after it (OpticNrv_PRV03_L).",
    "NAME_QUALIFIER_ORDER": "Laterality and spatial qualifiers go last: Lung~_L, OpticNrv_PRV03_L.",
    "NAME_NOT_TG263": "Use a TG-263 name (oarcontour names suggest), or prefix helpers with 'z'.",
    "NAME_UNCONFIRMED": "A newer name from the HL7 mCODE TG-263 table; check that your TPS and protocol accept it.",
    "NAME_CONSTRUCTED": "Built to the TG-263 rules for a TotalSegmentator class; not in TG-263. Review before use.",
}


def validate_name(name: str, tables: NamingTables | None = None,
                  profile: TPSProfile | str | None = None) -> list[Finding]:
    """Findings for one structure name: TG-263 rules, then the planning-system profile.

    Parameters
    ----------
    name
        The name exactly as it would be written (not trimmed).
    tables
        Naming tables; default :func:`~.tables.load_tables`.
    profile
        A TPS profile or its id (``"eclipse"``); None checks TG-263 only.

    Returns
    -------
    list of Finding
        Empty for a valid TG-263 name or compound. ``roi_name`` is ``name``.

    Raises
    ------
    InputError
        For an unknown profile id.
    """
    if not name:
        return [_finding("NAME_EMPTY", "The structure name is empty.", name)]
    findings = _syntax(name)
    if isinstance(profile, str):
        profile = load_profile(profile)
    if profile is not None:
        findings += _profile_findings(name, profile, findings)
    if not any(f.code in ("NAME_SPACES", "NAME_CHARACTERS") for f in findings):
        findings += _conformance(name, tables if tables is not None else load_tables())
    return findings


def is_valid_compound(name: str, tables: NamingTables | None = None) -> bool:
    """True for a TG-263 name or a name built by the TG-263 rules from known names.

    Unconfirmed (mCODE) and constructed names count as valid; any other finding makes it invalid.
    """
    return all(f.code in INFORMATIONAL for f in validate_name(name, tables))


def check_unique(names: Iterable[str]) -> list[Finding]:
    """Duplicates ignoring case (error, TG-263 rule 2) and names equal once '_' is ignored (warning).

    ``VB_S`` and ``VBs`` differ only by a separator; a case- and separator-insensitive system or a
    person reading a list can confuse them.
    """
    names = list(names)
    findings = [FindingCode.DUPLICATE_ROI_NAME.finding(
        f"{len(group)} structures share the name {', '.join(repr(n) for n in group)} (ignoring case).", group[0])
        for group in duplicate_groups(names)]
    by_case: dict[str, list[str]] = defaultdict(list)
    for name in names:
        by_case[name_key(name)].append(name)
    by_letters: dict[str, list[str]] = defaultdict(list)
    for key, group in by_case.items():
        by_letters[key.replace("_", "")].append(group[0])
    for group in by_letters.values():
        if len(group) > 1:
            spelled = ", ".join(f"'{n}'" for n in group)
            findings.append(_finding("NAME_SIMILAR", f"The names {spelled} differ only by '_'.", group[0],
                                     hint="Check that they are different structures (TG-263 has VB_S and VBs)."))
    return findings


def _finding(code: str, message: str, name: str, hint: str | None = None) -> Finding:
    severity = Severity.ERROR if code in ERROR_CODES else Severity.WARNING
    return Finding(code, severity, message, roi_name=name, hint=hint if hint is not None else HINTS.get(code, ""))


def _syntax(name: str) -> list[Finding]:
    findings = []
    if len(name) > MAX_LENGTH:
        findings.append(_finding("NAME_TOO_LONG", f"'{name}' has {len(name)} characters; TG-263 allows {MAX_LENGTH}.",
                                 name, hint=_shortening_hint(name)))
    if any(ch.isspace() for ch in name):
        findings.append(_finding("NAME_SPACES", f"'{name}' contains spaces.", name))
    bad = sorted({ch for ch in name if not ch.isspace() and not ALLOWED.fullmatch(ch)})
    if bad:
        shown = " ".join(repr(ch) for ch in bad)
        findings.append(_finding("NAME_CHARACTERS", f"'{name}' has characters TG-263 does not allow: {shown}.", name))
    return findings


def _shortening_hint(name: str) -> str:
    if re.match(r"^(PTV|CTV|GTV|ITV|IGTV|ICTV)", name):
        return "Delete underscores from the left (PTVLiverR_2000x3), or use a shorter structure indicator."
    if "_PRV" in name:
        return "Drop a margin digit (OpticChiasm_PRV3) or use the reverse-order name."
    return "Use the TG-263 name or its reverse-order name; drop optional parts."


def _profile_findings(name: str, profile: TPSProfile, tg263: list[Finding]) -> list[Finding]:
    findings = []
    limit = int(profile.max_roi_name_length.value)
    if limit < len(name) <= MAX_LENGTH:
        findings.append(_finding("NAME_TOO_LONG_FOR_TPS", f"'{name}' has {len(name)} characters; the "
                                 f"{profile.display_name} profile allows {limit}.", name,
                                 hint="Shorten it (reverse-order name, fewer underscores)."))
    pattern = profile.name_pattern()
    tg263_chars_ok = not any(f.code in ("NAME_SPACES", "NAME_CHARACTERS") for f in tg263)
    if tg263_chars_ok and not pattern.fullmatch(name):
        findings.append(_finding("NAME_CHARACTERS_FOR_TPS", f"'{name}' has characters outside {pattern.pattern} "
                                 f"({profile.display_name} profile).", name,
                                 hint="Use only the characters the planning system accepts."))
    return findings


def _conformance(name: str, tables: NamingTables) -> list[Finding]:
    known = _known_name(name, tables)
    if known is not None:
        return known
    compound = parse_compound(name)
    findings = [_finding(p.code, p.message, name) for p in compound.problems]
    if compound.is_helper:
        return findings
    if compound.is_plain and not compound.first.is_target:
        return findings + _unknown_plain(name, tables)
    for operand in compound.operands:
        findings += _operand_findings(name, operand, tables)
    return findings + _prv_margin(name, compound)


def _known_name(name: str, tables: NamingTables, roi_name: str | None = None) -> list[Finding] | None:
    """Findings for a name in the tables (possibly empty), or None when the tables do not have it."""
    roi = roi_name if roi_name is not None else name
    if tables.is_template(name):
        return [_finding("NAME_TEMPLATE", f"'{name}' is a TG-263 worksheet pattern, not a name.", roi)]
    entry = tables.entry(name)
    if entry is not None:
        if entry.kind == UNCONFIRMED:
            return [_finding("NAME_UNCONFIRMED", f"'{name}' is not in the 2017 TG-263 worksheet (newer mCODE name).",
                             roi)]
        return []
    if tables.is_constructed(name):
        return [_finding("NAME_CONSTRUCTED", f"'{name}' is not a TG-263 name (constructed for TotalSegmentator).",
                         roi)]
    return None


def _unknown_plain(name: str, tables: NamingTables) -> list[Finding]:
    canonical = tables.canonical_case(name)
    if canonical is not None:
        return [_finding("NAME_CAPITALISATION", f"'{name}' is the TG-263 name '{canonical}' with other capitals.",
                         name, hint=f"Write it '{canonical}'.")]
    findings = [_finding("NAME_NOT_TG263", f"'{name}' is not a TG-263 name or a name built by its rules.", name)]
    lower = [t for t in name.split("_") if t and t[0].islower()]
    if lower:
        findings.append(_finding("NAME_CAPITALISATION", f"'{name}': categories start with a capital "
                                 f"({', '.join(lower)}).", name))
    return findings


def _operand_findings(name: str, operand: Operand, tables: NamingTables) -> list[Finding]:
    if operand.is_target:
        return []
    known = _known_name(operand.base, tables, roi_name=name)
    if known is not None:
        return known
    canonical = tables.canonical_case(operand.base)
    if canonical is not None:
        return [_finding("NAME_CAPITALISATION", f"'{name}': '{operand.base}' is the TG-263 name '{canonical}' "
                                                f"with other capitals.", name, hint=f"Write '{canonical}'.")]
    return [_finding("NAME_NOT_TG263", f"'{name}': '{operand.base}' is not a TG-263 name.", name)]


def _prv_margin(name: str, compound: CompoundName) -> list[Finding]:
    margin = compound.first.prv_margin
    problem = prv_margin_problem(name, margin) if margin else None
    return [_finding(problem.code, problem.message, name)] if problem else []


__all__ = ["ERROR_CODES", "INFORMATIONAL", "MAX_LENGTH", "check_unique", "is_valid_compound", "validate_name",
           "ORDER", "PRV_FORMAT", "SPECIAL"]
