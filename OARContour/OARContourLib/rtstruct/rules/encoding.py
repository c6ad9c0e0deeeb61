"""Rules on how values are encoded: DS and string lengths, ContourData size and point counts.

Lengths are measured on the encoded values (see :mod:`.elements`), as a planning system's parser
sees them: Eclipse refuses a file whose DS value has 18 bytes (PS3.5 allows 16).
"""

from __future__ import annotations

from ...findings import Finding, Severity
from ..encoded_contours import CONTOUR_DATA
from .base import ContourHit, Rule, summarise
from .context import VerificationContext
from .elements import split_values

MAX_DS_BYTES = 16
#: Explicit VR little endian stores ContourData's length in 16 bits (PS3.3 C.8.8.6, note).
MAX_CONTOUR_DATA_BYTES = 65534
#: Maximum value length per VR (PS3.5 Table 6.2-1): characters for SH/LO, bytes for the others.
MAX_LENGTH = {"AE": 16, "CS": 16, "IS": 12, "SH": 16, "LO": 64, "UI": 64}
#: Elements with a dedicated rule (and hint) of their own.
DEDICATED = frozenset({"StructureSetLabel", "ROIObservationLabel", "ROIName"})


class DSLengthRule(Rule):
    code = "DS_VALUE_TOO_LONG"
    severity = Severity.ERROR
    description = "Every DS value (ContourData and others) is at most 16 bytes."
    hint = "Eclipse refuses files with longer DS values; write coordinates with at most 2 decimals."

    def check(self, context: VerificationContext) -> list[Finding]:
        hits = []
        for n, contour in enumerate(context.contours):
            longest = max(contour.values, key=len, default=b"")
            if len(longest) > MAX_DS_BYTES:
                count = sum(len(v) > MAX_DS_BYTES for v in contour.values)
                hits.append(ContourHit(contour, context.contour_slice(n),
                                       f"{count} values, e.g. {longest.decode('ascii', 'replace')!r} ({len(longest)} bytes)"))
        findings = summarise(self, hits, "ContourData values longer than 16 bytes")
        for element in context.elements:
            if element.vr == "DS" and element.tag != CONTOUR_DATA:
                long = [v for v in split_values(element.value) if len(v) > MAX_DS_BYTES]
                if long:
                    findings.append(self.finding(f"{element.path} has a DS value of {len(long[0])} bytes "
                                                 f"({long[0].decode('ascii', 'replace')!r}); at most 16 allowed."))
        return findings


class ContourDataLengthRule(Rule):
    code = "CONTOUR_DATA_TOO_LONG"
    severity = Severity.ERROR
    description = "Each ContourData value is at most 65534 bytes (the explicit VR length limit)."
    hint = "Split the contour or reduce its points (e.g. Douglas-Peucker within half a voxel)."

    def check(self, context: VerificationContext) -> list[Finding]:
        hits = []
        for n, contour in enumerate(context.contours):
            size = len(contour.contour_data or b"")
            size += size % 2  # the padded value field is what must fit
            if size > MAX_CONTOUR_DATA_BYTES:
                hits.append(ContourHit(contour, context.contour_slice(n), f"{size} bytes"))
        return summarise(self, hits, "ContourData longer than 65534 bytes")


class PointCountRule(Rule):
    code = "CONTOUR_POINT_COUNT_MISMATCH"
    severity = Severity.ERROR
    description = "NumberOfContourPoints × 3 equals the number of ContourData values."
    hint = "Readers allocate by NumberOfContourPoints; write it from the points actually stored."

    def check(self, context: VerificationContext) -> list[Finding]:
        hits = []
        for n, contour in enumerate(context.contours):
            values = len(contour.values)
            if contour.declared_points is None:
                hits.append(ContourHit(contour, context.contour_slice(n), "NumberOfContourPoints absent or invalid"))
            elif contour.declared_points * 3 != values:
                hits.append(ContourHit(contour, context.contour_slice(n),
                                       f"{contour.declared_points} points declared, {values} values"))
        return summarise(self, hits, "NumberOfContourPoints does not match ContourData")


class ContourDataRule(Rule):
    code = "CONTOUR_DATA_UNREADABLE"
    severity = Severity.ERROR
    description = "ContourData is present and holds finite numbers, three per point."
    hint = "Each point is x\\y\\z in millimetres; the file is damaged or was written by a faulty exporter."

    def check(self, context: VerificationContext) -> list[Finding]:
        hits = []
        for contour in context.contours:
            if contour.points is None:
                detail = ("absent or empty" if not contour.values else
                          f"{len(contour.values)} values, not a multiple of 3" if len(contour.values) % 3
                          else "values that are not finite numbers")
                hits.append(ContourHit(contour, None, detail))
        return summarise(self, hits, "ContourData cannot be read as points")


class ValueLengthRule(Rule):
    code = "VALUE_TOO_LONG"
    severity = Severity.ERROR
    description = "String values fit their VR (SH and CS 16, LO 64, IS 12, UI 64, AE 16)."
    hint = "Shorten the value; strict parsers (and dciodvfy) reject over-long values."

    def check(self, context: VerificationContext) -> list[Finding]:
        findings = []
        for element in context.elements:
            limit = MAX_LENGTH.get(element.vr)
            if limit is None or element.path.rsplit(".", 1)[-1] in DEDICATED:
                continue
            values = split_values(element.value)
            if element.vr in ("SH", "LO"):
                lengths = [len(v.decode(context.codec, errors="replace")) for v in values]
            else:
                lengths = [len(v) for v in values]
            if lengths and max(lengths) > limit:
                # Only the length is reported: values may be patient data.
                findings.append(self.finding(f"{element.path} ({element.vr}) has a value of {max(lengths)} "
                                             f"characters; at most {limit} allowed."))
        return findings


RULES: tuple[type[Rule], ...] = (DSLengthRule, ContourDataLengthRule, PointCountRule, ContourDataRule, ValueLengthRule)
