"""Leak scans: original identifying values searched for in the bytes of everything that left."""

from __future__ import annotations

from pathlib import Path

import pydicom
from OARContourLib.deid.deidentify import is_instance_uid

IDENTIFYING = ("PatientName", "PatientID", "PatientBirthDate", "AccessionNumber", "InstitutionName",
               "StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate", "OtherPatientIDs")
#: Retained by the Retain Device Identity option: a phantom's institution may equal its manufacturer.
RETAINED = ("Manufacturer", "ManufacturerModelName", "StationName", "DeviceSerialNumber")
#: Shorter values (a one-letter ID, say) would match arbitrary pixel bytes; they are not scanned.
MIN_LENGTH = 4


def identifying_values(ct_dir: Path) -> set[str]:
    """Patient name, ID, birth date, accession, institution, dates and every instance UID of a CT folder."""
    values: set[str] = set()
    retained: set[str] = set()
    for path in ct_dir.rglob("*"):
        if not path.is_file():
            continue
        ds = pydicom.dcmread(path, force=True)
        values.update(str(ds.get(k, "")) for k in IDENTIFYING)
        retained.update(str(ds.get(k, "")) for k in RETAINED)
        ds.walk(lambda _d, e: values.add(str(e.value)) if is_instance_uid(e) and isinstance(e.value, str) else None)
    return {v for v in values - retained if len(v) >= MIN_LENGTH}


def leaks_in(roots: list[Path], values: set[str]) -> list[tuple[str, str]]:
    """(file, value) for every original value found in any file under ``roots``."""
    encoded = [(v, v.encode()) for v in values]
    found = []
    for root in roots:
        for path in [root] if root.is_file() else sorted(root.rglob("*")):
            if path.is_file():
                data = path.read_bytes()
                found.extend((str(path), v) for v, b in encoded if b in data)
    return found
