"""Deterministic DICOM UIDs for the phantom: same request, same UIDs; any change, new UIDs.

UIDs use the ``2.25`` root (ISO/IEC 9834-8: a UUID written as a decimal integer) with name-based
UUIDs (version 5), so no organisation root is needed and nothing random is involved. Note that
``pydicom.uid.generate_uid(prefix=None, entropy_srcs=...)`` would *not* do: with ``prefix=None``
pydicom ignores the entropy sources and returns a random UUID.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from .. import __version__

logger = logging.getLogger(__name__)

#: Fixed namespace for every UID the phantom derives (itself a name-based UUID).
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/oarcontour/SlicerOARContour#phantom")


def derived_uid(*parts: str) -> str:
    """``2.25.<uuid5 as integer>``: at most 44 characters, well under the 64 DICOM allows."""
    return f"2.25.{uuid.uuid5(NAMESPACE, '/'.join(parts)).int}"


#: Identifies the software that wrote the files (File Meta Information).
IMPLEMENTATION_CLASS_UID = derived_uid("implementation", "OARContour")
IMPLEMENTATION_VERSION_NAME = f"OARCONTOUR_{__version__}"[:16]


@dataclass(frozen=True)
class SeriesUIDs:
    """Study, series, frame of reference and one SOP Instance UID per slice (index k)."""

    study: str
    series: str
    frame_of_reference: str
    instances: tuple[str, ...]


def series_uids(identity: str, slices: int) -> SeriesUIDs:
    """UIDs derived from ``identity`` (every argument that changes the pixels)."""
    return SeriesUIDs(
        study=derived_uid(identity, "study"),
        series=derived_uid(identity, "series"),
        frame_of_reference=derived_uid(identity, "frame-of-reference"),
        instances=tuple(derived_uid(identity, "image", str(k)) for k in range(slices)),
    )
