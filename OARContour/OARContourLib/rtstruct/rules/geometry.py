"""Rules on contour geometry: point count, planarity, slice planes, simplicity and extent.

CLOSED_PLANAR contours (PS3.3 C.8.8.6.1) are polygons of at least three points, the first point not
repeated, on one image plane, which their ContourImageSequence names. Plane positions are compared
with the CT slices as :mod:`.ct_frame` describes; self-intersection follows :mod:`.intersections`
(keyhole cuts are allowed).
"""

from __future__ import annotations

import numpy as np

from ...findings import Finding, Severity
from .base import ContourHit, Rule, summarise
from .context import ContourItem, VerificationContext
from .intersections import find_self_intersections

CLOSED_PLANAR = "CLOSED_PLANAR"
#: Geometric types with no polygon to check (a POINT marks a position).
POINT_TYPES = frozenset({"POINT"})


def _polygons(context: VerificationContext) -> list[tuple[int, ContourItem, np.ndarray]]:
    """(index, contour, points) of the readable CLOSED_PLANAR contours."""
    return [(n, c, c.points) for n, c in enumerate(context.contours)
            if c.geometric_type == CLOSED_PLANAR and c.points is not None]


class GeometricTypeRule(Rule):
    code = "CONTOUR_GEOMETRIC_TYPE"
    severity = Severity.WARNING
    description = "Contours are CLOSED_PLANAR (or POINT markers)."
    hint = ("Planning systems fill only CLOSED_PLANAR contours; OPEN_* are lines and CLOSEDPLANAR_XOR (2024) "
            "is unlikely to be supported yet.")

    def check(self, context: VerificationContext) -> list[Finding]:
        hits = [ContourHit(c, context.contour_slice(n), c.geometric_type or "(empty)")
                for n, c in enumerate(context.contours)
                if c.geometric_type != CLOSED_PLANAR and c.geometric_type not in POINT_TYPES]
        return summarise(self, hits, "ContourGeometricType is not CLOSED_PLANAR")


class TooFewPointsRule(Rule):
    code = "CONTOUR_TOO_FEW_POINTS"
    severity = Severity.ERROR
    description = "Each CLOSED_PLANAR contour has at least 3 distinct points."
    hint = "A polygon needs three points; drop degenerate contours before export."

    def check(self, context: VerificationContext) -> list[Finding]:
        hits = []
        for n, contour, points in _polygons(context):
            distinct = _distinct_up_to(points, 3)
            if distinct < 3:
                hits.append(ContourHit(contour, context.contour_slice(n), f"{distinct} distinct points"))
        return summarise(self, hits, "fewer than 3 points")


def _distinct_up_to(points: np.ndarray, limit: int) -> int:
    """Number of distinct points, counted up to ``limit`` (``len(np.unique(points, axis=0))`` capped)."""
    if limit == 3 and len(points) >= 3:
        first, second, third = points[:3].tolist()
        if first != second and first != third and second != third:  # the usual case, without array passes
            return 3
    count = 0
    while len(points) and count < limit:
        points = points[(points != points[0]).any(axis=1)]  # drop every copy of the next distinct point
        count += 1
    return count


class RepeatedFirstPointRule(Rule):
    code = "CONTOUR_FIRST_POINT_REPEATED"
    severity = Severity.WARNING
    description = "The first point of a closed contour is not repeated at its end."
    hint = "CLOSED_PLANAR contours close implicitly; most readers drop the duplicate, some draw a zero-length edge."

    def check(self, context: VerificationContext) -> list[Finding]:
        hits = [ContourHit(c, context.contour_slice(n), "") for n, c, points in _polygons(context)
                if len(points) > 3 and np.array_equal(points[0], points[-1])]
        return summarise(self, hits, "last point repeats the first")


class PlanarityRule(Rule):
    code = "CONTOUR_NOT_PLANAR"
    severity = Severity.ERROR
    description = "All points of a contour lie on one plane."
    hint = "A CLOSED_PLANAR contour must be planar; the exporter mixed points of different slices."

    def check(self, context: VerificationContext) -> list[Finding]:
        hits = []
        for n, contour, _ in _polygons(context):
            plane = context.planes[n]
            if plane is not None and not plane.planar:
                hits.append(ContourHit(contour, None, f"points spread {plane.spread_mm:.3g} mm along the slice normal"))
        return summarise(self, hits, "points are not on one plane")


class SlicePlaneRule(Rule):
    code = "CONTOUR_NOT_ON_SLICE"
    severity = Severity.ERROR
    description = "Each contour's plane is a CT slice plane (within 0.01 mm + 0.1 % of the slice spacing)."
    hint = ("Contours must lie on the image planes: the structure set belongs to another reconstruction "
            "of the series, or its exporter moved the contours.")

    def check(self, context: VerificationContext) -> list[Finding]:
        hits = []
        for n, contour, _ in _polygons(context):
            plane = context.planes[n]
            # A contour on an image absent from the CT (a partial series) is CONTOUR_IMAGE_MISSING.
            if plane is None or not plane.planar or plane.slice_index is not None or context.missing_images(contour):
                continue
            if plane.spread_mm > context.frame.tolerance_mm:
                detail = "plane is tilted relative to the CT slices"
            else:
                detail = (f"plane at {plane.position_mm:.3f} mm is {plane.distance_mm:.3g} mm from "
                          f"slice {plane.nearest_index}")
            hits.append(ContourHit(contour, None, detail))
        return summarise(self, hits, "plane is on no CT slice")


class ContourImagePlaneRule(Rule):
    code = "CONTOUR_IMAGE_MISMATCH"
    severity = Severity.ERROR
    description = "The slice a contour lies on is the image its ContourImageSequence names."
    hint = "Readers that trust the reference put the contour on the wrong slice; reference the slice it lies on."

    def check(self, context: VerificationContext) -> list[Finding]:
        known = context.frame.index_of_uid
        hits = []
        for n, contour in enumerate(context.contours):
            k = context.contour_slice(n)
            named = [known[uid] for _, uid in contour.image_uids or () if uid in known]
            if k is not None and named and k not in named:
                hits.append(ContourHit(contour, k, f"ContourImageSequence names slice {named[0]}"))
        return summarise(self, hits, "lies on another slice than the image it references")


class SelfIntersectionRule(Rule):
    code = "CONTOUR_SELF_INTERSECTION"
    severity = Severity.ERROR
    description = "Closed contours do not cross or retrace themselves (keyhole cuts allowed)."
    hint = "Planning systems may reject or fill a non-simple polygon differently; repair the contour."

    def check(self, context: VerificationContext) -> list[Finding]:
        polygons = [(n, c, p) for n, c, p in _polygons(context) if len(p) >= 3]
        if not polygons:
            return []
        points = context.frame.in_plane(np.concatenate([p for _, _, p in polygons]))
        offsets = np.r_[0, np.cumsum([len(p) for _, _, p in polygons])]
        result = find_self_intersections(points, offsets)
        hits = []
        for m in np.flatnonzero(result.has_error):
            n, contour, _ = polygons[m]
            kind = "crosses itself" if result.crossings[m] else "walks an edge twice in the same direction"
            x, y = result.where[m]
            hits.append(ContourHit(contour, context.contour_slice(n), f"{kind} near ({x:.2f}, {y:.2f}) mm in-plane"))
        return summarise(self, hits, "self-intersecting polygon")


class ExtentRule(Rule):
    code = "CONTOUR_OUTSIDE_CT"
    severity = Severity.WARNING
    description = "Contour points lie inside the CT's field of view (its outer voxel boundaries)."
    hint = "Parts outside the images are dropped or clipped on import; check the contour and the CT geometry."

    def check(self, context: VerificationContext) -> list[Finding]:
        hits = []
        for n, contour, points in _polygons(context):
            outside = context.frame.outside_extent(points)
            if outside.any():
                hits.append(ContourHit(contour, context.contour_slice(n),
                                       f"{int(outside.sum())} of {len(points)} points outside"))
        return summarise(self, hits, "points outside the CT")


RULES: tuple[type[Rule], ...] = (
    GeometricTypeRule, TooFewPointsRule, RepeatedFirstPointRule, PlanarityRule, SlicePlaneRule,
    ContourImagePlaneRule, SelfIntersectionRule, ExtentRule,
)
