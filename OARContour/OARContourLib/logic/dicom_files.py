"""The DICOM files behind a CT volume node, whichever way it was loaded.

OARContour's loader stores the paths (``OARContour.SourceFiles``). Slicer's DICOM browser stores only
the SOP Instance UIDs: ``DICOM.instanceUIDs``, space-separated, ``Unknown`` for a file without one
(Slicer ``DICOMScalarVolumePlugin.py``:500-510). Their files are then found through a lookup with
the contract of ``slicer.dicomDatabase.fileForInstance(uid)``: a path, or ``""`` for an unknown UID.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import slicer

from ..errors import InputError
from . import volume_nodes

#: ``lookup(sop_instance_uid) -> path``; ``""`` when the UID is unknown.
FileLookup = Callable[[str], str]
#: What Slicer's DICOM plugin stores for a file without a SOP Instance UID.
UNKNOWN_UID = "Unknown"
REIMPORT_HINT = ("Import the series into Slicer's DICOM database again, or load it with OARContour's "
                 "'Load CT' from its folder.")


def dicom_database_lookup() -> FileLookup:
    """The Slicer application's DICOM database as a lookup (``slicer.dicomDatabase.fileForInstance``).

    Raises
    ------
    InputError
        There is no DICOM database (outside the application) or it is closed.
    """
    database = getattr(slicer, "dicomDatabase", None)
    if database is None or not database.isOpen:
        raise InputError("Slicer's DICOM database is not open, so the files of this CT cannot be found.",
                         hint="Open the DICOM module once (it opens the database) and try again; or load the CT "
                              "with OARContour's 'Load CT' from its folder.")
    return database.fileForInstance  # type: ignore[no-any-return]


def series_files(ct_node: Any, lookup: FileLookup | None = None) -> list[Path]:
    """The node's files: its stored paths, else its instance UIDs resolved through ``lookup``.

    ``lookup`` defaults to :func:`dicom_database_lookup`, asked only when the node has no paths.

    Raises
    ------
    InputError
        The node has neither, a UID is unknown to the lookup, or a file is gone.
    """
    name = ct_node.GetName()
    stored = volume_nodes.source_files(ct_node)
    if stored:
        files = [Path(p) for p in stored]
        if not all(p.is_file() for p in files):
            raise InputError(f"The DICOM files of CT '{name}' are no longer where they were loaded from.",
                             hint="Put the files back, or load the CT again from its new folder.")
        return files
    uids = volume_nodes.instance_uids(ct_node)
    if not uids:
        raise InputError(f"CT '{name}' was not loaded from DICOM files (it has no DICOM instance UIDs).",
                         hint="Load the CT with OARContour's 'Load CT' or Slicer's DICOM module.")
    lookup = lookup if lookup is not None else dicom_database_lookup()
    paths = [lookup(uid) if uid != UNKNOWN_UID else "" for uid in uids]
    missing = [uid for uid, path in zip(uids, paths, strict=True) if not path or not Path(path).is_file()]
    if missing:
        raise InputError(f"{len(missing)} of the {len(uids)} slices of CT '{name}' are not in Slicer's DICOM database "
                         "or their files are gone.", hint=REIMPORT_HINT)
    return [Path(p) for p in paths]
