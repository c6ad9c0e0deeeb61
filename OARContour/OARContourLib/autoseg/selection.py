"""Which structures a run produces, and why the others of a site template are skipped.

This module imports no engine, so every engine (and the TotalSegmentator output importer) can use
it without an import cycle.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import InputError
from ..naming.tables import load_tables
from .result import REASON_MANUAL, REASON_NEEDS_CLASSICAL, REASON_NEEDS_TOTALSEGMENTATOR

#: Engine names as the naming tables' ``source`` column spells them.
CLASSICAL = "classical"
TOTALSEGMENTATOR = "totalsegmentator"
#: Reason given for a lateral structure whose side of the body is outside the image.
REASON_NOT_IN_FIELD_OF_VIEW = "not in the field of view"


def select_structures(engine: str, available: Sequence[str], template: str | None,
                      structures: Sequence[str] | None) -> tuple[list[str], dict[str, str]]:
    """The names to produce and the template names skipped with their reason.

    Raises
    ------
    InputError
        Both a template and a list given; unknown template; a listed name the engine cannot produce.
    """
    if template is not None and structures is not None:
        raise InputError("Pass either a template or a structure list, not both.", hint="Drop one of them.")
    if template is not None:
        return _from_template(engine, available, template)
    if structures is None:
        return list(available), {}
    unknown = [name for name in structures if name not in available]
    if unknown:
        raise InputError(f"The {engine} engine cannot produce: {', '.join(unknown)}.",
                         hint=f"Choose from: {', '.join(available)}.")
    return list(dict.fromkeys(structures)), {}


def _from_template(engine: str, available: Sequence[str], template: str) -> tuple[list[str], dict[str, str]]:
    entries = load_tables().require_template(template)
    wanted, skipped = [], {}
    for entry in entries:
        if entry.tg263_name in available:
            wanted.append(entry.tg263_name)
        elif entry.source == "manual":
            skipped[entry.tg263_name] = REASON_MANUAL
        elif entry.source == TOTALSEGMENTATOR and engine != TOTALSEGMENTATOR:
            skipped[entry.tg263_name] = REASON_NEEDS_TOTALSEGMENTATOR
        elif entry.source == CLASSICAL and engine != CLASSICAL:
            skipped[entry.tg263_name] = REASON_NEEDS_CLASSICAL
        else:
            task = f" (task {entry.ts_task})" if entry.ts_task else ""
            skipped[entry.tg263_name] = f"not provided by this {engine} run{task}"
    return wanted, skipped
