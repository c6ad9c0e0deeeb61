"""Default RT ROI Interpreted Type from a structure name (TG-263 conventions).

Used when nothing more specific is known; the naming tables give per-name types once a name is
resolved. Rules follow TG-263 and rtstruct-requirements: targets by prefix, PRVs and rings are
AVOIDANCE, non-dose ``z``/``_`` helpers are CONTROL, Body/External is EXTERNAL, the rest ORGAN.
"""

from __future__ import annotations

import re

from .model import RoiType

_TARGET = re.compile(r"^(PTV|CTV|GTV|ITV|IGTV|ICTV)", re.IGNORECASE)
_EXTERNAL = {"body", "external", "skin_body", "outline"}


def default_roi_type(name: str) -> RoiType:
    lower = name.lower()
    match = _TARGET.match(name)
    if match:
        kind = match.group(1).upper()
        # ITV/ICTV (internal target volumes around a CTV) have no DICOM term of their own: CTV.
        return {"PTV": RoiType.PTV, "CTV": RoiType.CTV, "ITV": RoiType.CTV, "ICTV": RoiType.CTV}.get(kind, RoiType.GTV)
    if lower in _EXTERNAL:
        return RoiType.EXTERNAL
    if re.match(r"^(z[A-Z0-9_]|_)", name):  # TG-263 non-dose prefix, not a name like "Zygoma"
        return RoiType.CONTROL
    if "_prv" in lower or "ring" in lower:
        return RoiType.AVOIDANCE
    return RoiType.ORGAN
