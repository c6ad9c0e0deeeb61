"""The reversible map: every replaced UID and identifying value, per patient and study (SQLite).

The map is what makes a pseudonymous RTSTRUCT land on the original CT again, so it never leaves
the gateway. The file is created owner-only (0600); SQLite gives its journal the same permissions.
One pseudonymous UID maps to exactly one original UID; a patient keeps one dicognito seed (hence
one date offset and one set of pseudonymous UIDs) across studies.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..errors import InputError

SCHEMA = """
CREATE TABLE IF NOT EXISTS patients (
    patient_key TEXT PRIMARY KEY,      -- the original Patient ID (never sent anywhere)
    seed TEXT NOT NULL,                -- dicognito seed: pseudonyms and date offset of this patient
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS uids (
    pseudonym TEXT PRIMARY KEY,
    original TEXT NOT NULL,
    patient_key TEXT NOT NULL REFERENCES patients(patient_key),
    keyword TEXT NOT NULL              -- where the UID was first seen (e.g. SOPInstanceUID)
);
CREATE TABLE IF NOT EXISTS identifiers (
    patient_key TEXT NOT NULL REFERENCES patients(patient_key),
    study_uid TEXT NOT NULL,
    keyword TEXT NOT NULL,
    original TEXT NOT NULL,
    pseudonym TEXT NOT NULL,           -- empty when the value was removed
    PRIMARY KEY (patient_key, study_uid, keyword, original)
);
"""


@dataclass(frozen=True)
class UidEntry:
    """One replaced UID: what it was, whose it was and where it was first seen."""

    pseudonym: str
    original: str
    patient_key: str
    keyword: str


class DeidMap:
    """The map file; use as a context manager so the connection is closed."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        if not self.path.parent.is_dir():
            raise InputError(f"Folder of the map {self.path} does not exist.",
                             hint="Create the folder first, or give --map a path in an existing folder.")
        if not self.path.exists():
            # Created owner-only before SQLite opens it: the map identifies every patient sent out.
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        self._connection = sqlite3.connect(self.path, timeout=30)
        try:
            self._connection.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            self._connection.close()
            raise InputError(f"{self.path} is not a de-identification map ({exc}).",
                             hint="Give the map file the gateway wrote (--map).") from exc

    def __enter__(self) -> DeidMap:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._connection.close()

    def seed_for(self, patient_key: str) -> str:
        """The patient's dicognito seed, drawn (and stored) on first use."""
        row = self._connection.execute("SELECT seed FROM patients WHERE patient_key = ?", (patient_key,)).fetchone()
        if row:
            return str(row[0])
        seed = secrets.token_hex(20)
        with self._connection:
            self._connection.execute("INSERT INTO patients VALUES (?, ?, ?)",
                                     (patient_key, seed, datetime.now(timezone.utc).isoformat()))
        return seed

    def add_uids(self, entries: Iterable[UidEntry]) -> None:
        """Record replaced UIDs; a pseudonym already known for another original is refused."""
        with self._connection:
            for entry in entries:
                known = self.original_uid(entry.pseudonym)
                if known is not None and known != entry.original:
                    raise InputError(f"Pseudonymous UID {entry.pseudonym} already stands for another UID in "
                                     f"{self.path.name}.", hint="Report this: two UIDs hashed alike.")
                self._connection.execute("INSERT OR IGNORE INTO uids VALUES (?, ?, ?, ?)",
                                         (entry.pseudonym, entry.original, entry.patient_key, entry.keyword))

    def add_identifiers(self, patient_key: str, study_uid: str, values: Iterable[tuple[str, str, str]]) -> None:
        """Record ``(keyword, original, pseudonym)`` of the identifying values replaced in one study."""
        with self._connection:
            self._connection.executemany(
                "INSERT OR REPLACE INTO identifiers VALUES (?, ?, ?, ?, ?)",
                [(patient_key, study_uid, keyword, original, pseudonym) for keyword, original, pseudonym in values])

    def original_uid(self, pseudonym: str) -> str | None:
        row = self._connection.execute("SELECT original FROM uids WHERE pseudonym = ?", (pseudonym,)).fetchone()
        return str(row[0]) if row else None

    def entry(self, pseudonym: str) -> UidEntry | None:
        row = self._connection.execute("SELECT pseudonym, original, patient_key, keyword FROM uids WHERE pseudonym = ?",
                                       (pseudonym,)).fetchone()
        return UidEntry(*(str(v) for v in row)) if row else None

    def original_values(self) -> list[str]:
        """Every original identifying value and UID in the map (for leak scans)."""
        rows = self._connection.execute("SELECT original FROM uids UNION SELECT original FROM identifiers")
        return [str(r[0]) for r in rows if r[0]]


__all__ = ["DeidMap", "UidEntry"]
