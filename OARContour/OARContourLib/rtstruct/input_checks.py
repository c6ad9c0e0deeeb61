"""Checks on what the user asks the writer to write: the CT reference, masks and names.

Strict on write: anything that would make a planning system reject or misread the file is refused
here, before a byte is written, with every offending structure named.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..ct.model import CTVolume
from ..errors import ExportError, GeometryError, InputError, NamingError
from ..finding_codes import FindingCode
from ..findings import Finding
from ..name_rules import (
    STRUCTURE_SET_LABEL_MAX,
    LabelProblem,
    NameProblem,
    duplicate_groups,
    externals,
    label_problem,
    name_problem,
)
from .model import Structure
from .profiles import TPSProfile


def check_ct(ct: CTVolume) -> None:
    if not ct.reference.is_referenceable:
        raise ExportError(
            "The CT has empty Study, Series or Frame of Reference UIDs: no RTSTRUCT can reference it.",
            hint="Load the original series from the PACS or planning system, not an anonymised copy.",
            code="CT_NOT_REFERENCEABLE")
    missing = [s.path.name for s in ct.slices if not s.sop_instance_uid or not s.sop_class_uid]
    if missing:
        raise ExportError(f"{len(missing)} CT slices have no SOP Instance/Class UID (e.g. {missing[0]}).",
                          hint="Use the original CT files.", code="CT_NOT_REFERENCEABLE")


def check_masks(ct: CTVolume, structures: Sequence[Structure]) -> None:
    grid = np.array(ct.hu.shape)
    wrong = [f"{s.name} {tuple(np.shape(s.mask))} at {tuple(s.offset_kji)}" for s in structures
             if np.ndim(s.mask) != 3 or np.any(np.array(s.offset_kji) < 0)
             or np.any(np.array(s.offset_kji) + np.array(np.shape(s.mask)) > grid)]
    if wrong:
        raise GeometryError(f"Masks not on the CT grid {ct.hu.shape}: {', '.join(wrong)}.",
                            hint="Resample masks onto the CT grid first (oarcontour export does it for files).")


def check_names(structures: Sequence[Structure], profile: TPSProfile) -> None:
    """Refuse names a planning system would reject; list all of them at once."""
    pattern = profile.name_pattern()
    limit = int(profile.max_roi_name_length.value)
    problems = []
    for s in structures:
        name, problem = s.name, name_problem(s.name, pattern, limit)
        if problem in (NameProblem.EMPTY, NameProblem.SPACES):
            problems.append(f"'{name}' is empty or has leading/trailing spaces")
        elif problem is NameProblem.CHARACTERS:
            problems.append(f"'{name}' has characters outside {pattern.pattern}")
        elif problem is NameProblem.TOO_LONG:
            problems.append(f"'{name}' has {len(name)} characters (> {limit} for {profile.display_name})")
    fold = bool(profile.unique_names_ignoring_case.value)
    problems += [f"'{group[0]}' occurs {len(group)} times (names must be unique{' ignoring case' if fold else ''})"
                 for group in duplicate_groups((s.name for s in structures), fold)]
    if problems:
        raise NamingError("Structure names not valid for the " + profile.display_name + " profile: "
                          + "; ".join(problems) + ".",
                          hint="Rename them (TG-263: at most 16 characters, letters, digits, _ ~ ^ - !).")


def check_external(structures: Sequence[Structure], profile: TPSProfile) -> list[Finding]:
    found = externals((s.name, s.roi_type) for s in structures)
    if len(found) > 1 and profile.exactly_one_external.value:
        raise NamingError(f"{len(found)} structures have type EXTERNAL ({', '.join(found)}); "
                          f"{profile.display_name} accepts exactly one.",
                          hint=FindingCode.MULTIPLE_EXTERNAL.hint, code=FindingCode.MULTIPLE_EXTERNAL.code)
    if not found and profile.exactly_one_external.value:
        return [FindingCode.NO_EXTERNAL.finding("No structure has type EXTERNAL (Body/External).")]
    return []


def check_label(label: str) -> None:
    """Refuse a Structure Set Label that is not a valid SH (:func:`~..name_rules.label_problem`) before anything is written."""
    problem = label_problem(label)
    if problem is LabelProblem.CHARACTERS:
        raise InputError(f"Structure Set Label {label!r} {problem.rule()}.",
                         hint="Use printable characters only, e.g. the site or plan name.")
    if problem is not None:
        raise InputError(f"Structure Set Label {label!r} {problem.rule(STRUCTURE_SET_LABEL_MAX)}.",
                         hint=FindingCode.STRUCTURE_SET_LABEL_TOO_LONG.hint,
                         code=FindingCode.STRUCTURE_SET_LABEL_TOO_LONG.code)
