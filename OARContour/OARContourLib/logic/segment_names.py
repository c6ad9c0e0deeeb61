"""Segment names for the panel's Names table: suggestions without applying them, and one checked rename.

A row shows what :meth:`OARContourLogic.applyNaming` would do with the same threshold, so "accept all
above the threshold" applies exactly the rows marked ``will_apply``. A rename typed by a person is
checked like an export would check it (TG-263 rules, no duplicates ignoring case) and never changes
a side the old name states unless the caller says the person confirmed it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ..errors import InputError, NamingError
from ..finding_codes import FindingCode
from ..findings import Severity
from ..name_rules import name_key
from ..naming.laterality import Side, read_side, side_of_name
from ..naming.normalize import raw_tokens
from ..naming.overrides import Overrides
from ..naming.tables import NamingTables, load_tables
from ..naming.validate import INFORMATIONAL, validate_name
from ..rtstruct.model import RoiType
from . import segmentation_nodes
from .workflow import Rename, naming_decision

logger = logging.getLogger(__name__)

USER_EDIT_REASON = "edited by a person"


@dataclass(frozen=True)
class NameRow:
    """One row of the Names table.

    Attributes
    ----------
    segment_id, current_name
        The segment and its name now.
    suggested_name, confidence, reason
        The best TG-263 suggestion (the current name when there is none) and why.
    roi_type
        RT ROI Interpreted Type the export would write (segment tag, else the table default).
    color
        Display colour, 0-255 RGB.
    will_apply
        True when :meth:`OARContourLogic.applyNaming` with the same threshold renames this segment.
    """

    segment_id: str
    current_name: str
    suggested_name: str
    confidence: float
    roi_type: RoiType
    color: tuple[int, int, int]
    will_apply: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"segment_id": self.segment_id, "current_name": self.current_name,
                "suggested_name": self.suggested_name, "confidence": round(self.confidence, 3),
                "roi_type": self.roi_type.value, "color": list(self.color), "will_apply": self.will_apply,
                "reason": self.reason}


def name_rows(segmentation_node: Any, overrides: Overrides | None, min_confidence: float,
              tables: NamingTables | None = None) -> list[NameRow]:
    """A :class:`NameRow` per segment, in display order; nothing is renamed."""
    tables = tables or load_tables()
    segmentation = segmentation_node.GetSegmentation()
    rows = []
    for segment_id in segmentation_nodes.segment_ids(segmentation_node):
        segment = segmentation.GetSegment(segment_id)
        decision = naming_decision(segment_id, segment.GetName(), overrides, min_confidence)
        rows.append(NameRow(segment_id, decision.old_name, decision.new_name, decision.confidence,
                            # The type and colour the export would write (segmentation_nodes.read_structures).
                            segmentation_nodes.appearance_of(segment, tables).roi_type,
                            segmentation_nodes.color_of(segment),
                            decision.applied, decision.reason))
    return rows


def side_change(old_name: str, new_name: str) -> str:
    """Why renaming ``old_name`` to ``new_name`` changes a side, or ``""`` when it does not.

    Adding a side to a name that states none is not a change (the person states it); replacing or
    dropping a stated side, or giving a side to a name whose side is unclear, is.
    """
    stated = read_side(raw_tokens(old_name))
    new_side = side_of_name(new_name)
    if stated.unknown and new_side is not Side.NONE:
        return f"'{old_name}' does not state one clear side, but '{new_name}' has side {new_side.value}"
    if stated.side is Side.NONE or stated.side is new_side:
        return ""
    if new_side is Side.NONE:
        return f"'{old_name}' is side {stated.side.value}, but '{new_name}' has no side"
    return f"'{old_name}' is side {stated.side.value}, but '{new_name}' is side {new_side.value}"


def find_segment(segmentation_node: Any, segment_id: str) -> Any:
    """The segment with this ID.

    Raises
    ------
    InputError
        No such segment (the Names table is out of date).
    """
    segment = segmentation_node.GetSegmentation().GetSegment(segment_id)
    if segment is None:
        raise InputError(f"Segmentation '{segmentation_node.GetName()}' has no segment '{segment_id}'.",
                         hint="Refresh the Names table; the segment may have been deleted.")
    return segment


def rename_segment(segmentation_node: Any, segment_id: str, new_name: str, *, side_change_confirmed: bool = False,
                   tables: NamingTables | None = None) -> Rename:
    """Rename one segment to a valid TG-263 name (or compound); the segment ID stays.

    Raises
    ------
    InputError
        No such segment.
    NamingError
        The name breaks a TG-263 rule, duplicates another segment's name ignoring case, or changes
        the side the old name states without ``side_change_confirmed``.
    """
    segment = find_segment(segmentation_node, segment_id)
    old_name = segment.GetName()
    _check_name(new_name, tables or load_tables())
    _check_unique(segmentation_node, segment_id, new_name)
    changed_side = side_change(old_name, new_name)
    if changed_side and not side_change_confirmed:
        raise NamingError(f"Renaming would change a side: {changed_side}.", code="NAME_SIDE_CHANGE",
                          hint="Check the image; confirm the side change explicitly if it is right.")
    segment.SetName(new_name)
    if changed_side:
        logger.warning("Side changed by a person: %s", changed_side)
    logger.info("Renamed segment '%s' to '%s' (%s)", old_name, new_name, USER_EDIT_REASON)
    return Rename(segment_id, old_name, new_name, 1.0, True, USER_EDIT_REASON)


def _check_name(name: str, tables: NamingTables) -> None:
    problems = [f for f in validate_name(name, tables) if f.code not in INFORMATIONAL]
    if problems:
        worst = next((f for f in problems if f.severity is Severity.ERROR), problems[0])
        raise NamingError(f"'{name}' is not a TG-263 name: {worst.message}", code=worst.code, hint=worst.hint)


def _check_unique(segmentation_node: Any, segment_id: str, name: str) -> None:
    segmentation = segmentation_node.GetSegmentation()
    for other_id in segmentation_nodes.segment_ids(segmentation_node):
        if other_id != segment_id and name_key(segmentation.GetSegment(other_id).GetName()) == name_key(name):
            raise NamingError(f"Segment '{other_id}' is already named '{segmentation.GetSegment(other_id).GetName()}'.",
                              code=FindingCode.DUPLICATE_ROI_NAME.code,
                              hint="Planning systems compare names ignoring case; merge the segments or choose "
                                   "another name.")
