"""Checks on what the user asks the writer to write: the CT reference, masks and names.

Strict on write: anything that would make a planning system reject or misread the file is refused
here, before a byte is written, with every offending structure named.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from ..ct.model import CTVolume
from ..ct.problems import Severity
from ..errors import ExportError, GeometryError, NamingError
from ..findings import Finding
from .model import RoiType, Structure
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
        name = s.name
        if not name or name != name.strip():
            problems.append(f"'{name}' is empty or has leading/trailing spaces")
        elif not name.isascii() or not pattern.fullmatch(name):
            problems.append(f"'{name}' has characters outside {pattern.pattern}")
        elif len(name) > limit:
            problems.append(f"'{name}' has {len(name)} characters (> {limit} for {profile.display_name})")
    counts = Counter(s.name.lower() for s in structures)
    problems += [f"'{n}' occurs {c} times (names must be unique ignoring case)" for n, c in counts.items() if c > 1]
    if problems:
        raise NamingError("Structure names not valid for the " + profile.display_name + " profile: "
                          + "; ".join(problems) + ".",
                          hint="Rename them (TG-263: at most 16 characters, letters, digits, _ ~ ^ - !).")


def check_external(structures: Sequence[Structure], profile: TPSProfile) -> list[Finding]:
    externals = [s.name for s in structures if s.roi_type is RoiType.EXTERNAL]
    if len(externals) > 1 and profile.exactly_one_external.value:
        raise NamingError(f"{len(externals)} structures have type EXTERNAL ({', '.join(externals)}); "
                          f"{profile.display_name} accepts exactly one.",
                          hint="Keep one Body/External as EXTERNAL and give the others another type.")
    if not externals and profile.exactly_one_external.value:
        return [Finding("NO_EXTERNAL", Severity.WARNING, "No structure has type EXTERNAL (Body/External).",
                        hint="Most planning systems need one External contour for dose calculation.")]
    return []
