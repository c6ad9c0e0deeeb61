"""The rules on ROI names and labels, as pure predicates every check calls.

The writer's pre-checks refuse what these find, the verifier reports it in a file, QA and
``oarcontour names`` report it on segments: one definition, so the doors never disagree on what a
duplicate or a valid label is.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable

#: StructureSetLabel and ROIObservationLabel are SH.
STRUCTURE_SET_LABEL_MAX = 16
OBSERVATION_LABEL_MAX = 16


class NameProblem(str, enum.Enum):
    """What is wrong with one ROI name (the first that applies)."""

    EMPTY = "ROI_NAME_EMPTY"
    SPACES = "ROI_NAME_SPACES"
    CHARACTERS = "ROI_NAME_CHARACTERS"
    TOO_LONG = "ROI_NAME_TOO_LONG"


def name_key(name: str, ignore_case: bool = True) -> str:
    """What two names are compared by: stripped, and case-folded when ``ignore_case``."""
    stripped = name.strip()
    return stripped.casefold() if ignore_case else stripped


def duplicate_groups(names: Iterable[str], ignore_case: bool = True) -> list[list[str]]:
    """Groups of two or more names that are the same (blank names are not compared)."""
    groups: dict[str, list[str]] = {}
    for name in names:
        if name.strip():
            groups.setdefault(name_key(name, ignore_case), []).append(name)
    return [group for group in groups.values() if len(group) > 1]


def is_blank(name: str) -> bool:
    return not name.strip()


def has_outer_spaces(name: str) -> bool:
    return bool(name.strip()) and name != name.strip()


def has_bad_characters(name: str, pattern: re.Pattern[str]) -> bool:
    """Characters outside the profile's pattern (checked on the name without its outer spaces)."""
    stripped = name.strip()
    return bool(stripped) and (not stripped.isascii() or not pattern.fullmatch(stripped))


def too_long(name: str, max_length: int) -> bool:
    return len(name) > max_length


def name_problem(name: str, pattern: re.Pattern[str], max_length: int) -> NameProblem | None:
    """The first problem of ``name`` for a profile's allowed characters and length, else None."""
    if is_blank(name):
        return NameProblem.EMPTY
    if has_outer_spaces(name):
        return NameProblem.SPACES
    if has_bad_characters(name, pattern):
        return NameProblem.CHARACTERS
    if too_long(name, max_length):
        return NameProblem.TOO_LONG
    return None


def is_external(roi_type: object) -> bool:
    """True for RT ROI Interpreted Type EXTERNAL (a :class:`RoiType` or the text of the attribute)."""
    return str(getattr(roi_type, "value", roi_type)).strip() == "EXTERNAL"


def externals(typed_names: Iterable[tuple[str, object]]) -> list[str]:
    """The names whose type is EXTERNAL, in order."""
    return [name for name, roi_type in typed_names if is_external(roi_type)]


class LabelProblem(enum.Enum):
    """What is wrong with a Structure Set Label or ROI Observation Label (VR SH), the first that applies."""

    BLANK = "blank"
    TOO_LONG = "too_long"
    CHARACTERS = "characters"

    def rule(self, max_length: int = STRUCTURE_SET_LABEL_MAX) -> str:
        """The rule broken, in words, for messages ("must have 1-16 characters")."""
        if self is LabelProblem.CHARACTERS:
            return "must not contain a backslash or control characters (DICOM VR SH)"
        return f"must have 1–{max_length} characters, not all spaces"


def label_problem(label: str, max_length: int = STRUCTURE_SET_LABEL_MAX) -> LabelProblem | None:
    """The first problem of a label for the SH value representation, else None.

    PS3.5 SH: at most 16 characters, no backslash (the value separator), no control characters. ESC
    is refused too: it only introduces ISO 2022 code extensions, which OARContour never writes.
    """
    if not label.strip():
        return LabelProblem.BLANK
    if len(label) > max_length:
        return LabelProblem.TOO_LONG
    if "\\" in label or any(unicodedata.category(char) == "Cc" for char in label):
        return LabelProblem.CHARACTERS
    return None


def label_ok(label: str, max_length: int = STRUCTURE_SET_LABEL_MAX) -> bool:
    """A Structure Set Label (or ROI Observation Label) :func:`label_problem` finds nothing wrong with."""
    return label_problem(label, max_length) is None


__all__ = ["LabelProblem", "NameProblem", "OBSERVATION_LABEL_MAX", "STRUCTURE_SET_LABEL_MAX", "duplicate_groups", "externals",
           "has_bad_characters", "has_outer_spaces", "is_blank", "is_external", "label_ok", "label_problem", "name_key",
           "name_problem", "too_long"]
