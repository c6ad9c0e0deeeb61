"""The job ledger: one SQLite file, the source of truth for every job and its audit trail.

Each received series is one job. A job moves through :class:`JobState`; every change, pipeline step,
review and send attempt is an event with a timestamp. Transitions are conditional updates
(``UPDATE ... WHERE state IN (...)``), so repeating one, or two processes racing for it, changes the
job once: that is what keeps a restarted node from processing or sending anything twice.
"""

from __future__ import annotations

import enum
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..errors import InputError

SCHEMA_VERSION = 1


class JobState(str, enum.Enum):
    RECEIVED = "received"
    CHECKED = "checked"
    CONTOURING = "contouring"
    AWAITING_REVIEW = "awaiting_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


#: States a job never leaves.
FINAL_STATES = (JobState.REJECTED, JobState.SENT, JobState.FAILED)
#: States the pipeline (re)runs from after a restart.
PIPELINE_STATES = (JobState.RECEIVED, JobState.CHECKED, JobState.CONTOURING)

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    series_uid TEXT NOT NULL UNIQUE,
    study_uid TEXT NOT NULL DEFAULT '',
    patient_id TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    state_at REAL NOT NULL,
    created_at REAL NOT NULL,
    instances INTEGER NOT NULL DEFAULT 0,
    last_instance_at REAL NOT NULL DEFAULT 0,
    ct_dir TEXT NOT NULL DEFAULT '',
    out_dir TEXT NOT NULL DEFAULT '',
    engine TEXT NOT NULL DEFAULT '',
    engine_version TEXT NOT NULL DEFAULT '',
    template TEXT NOT NULL DEFAULT '',
    tps TEXT NOT NULL DEFAULT '',
    rtstruct_path TEXT NOT NULL DEFAULT '',
    rtstruct_sop_uid TEXT NOT NULL DEFAULT '',
    findings TEXT NOT NULL DEFAULT '[]',
    verification TEXT NOT NULL DEFAULT '{}',
    reason TEXT NOT NULL DEFAULT '',
    reviewer TEXT NOT NULL DEFAULT '',
    reviewed_at REAL,
    destination TEXT NOT NULL DEFAULT '',
    store_status TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    claimed_by TEXT NOT NULL DEFAULT '',
    dispatch TEXT NOT NULL DEFAULT '',
    queued_at REAL NOT NULL DEFAULT 0,
    runs INTEGER NOT NULL DEFAULT 0,
    worker TEXT NOT NULL DEFAULT '',
    lease_until REAL NOT NULL DEFAULT 0,
    ticket TEXT NOT NULL DEFAULT '',
    report_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    state TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS events_job ON events (job_id);
"""

#: Columns a caller may set through :meth:`Ledger.update` (never ``state``: that goes through transitions).
_UPDATABLE = {"study_uid", "patient_id", "instances", "last_instance_at", "ct_dir", "out_dir", "engine",
              "engine_version", "template", "tps", "rtstruct_path", "rtstruct_sop_uid", "findings", "verification",
              "reason", "reviewer", "reviewed_at", "destination", "store_status", "attempts", "next_attempt_at", "claimed_by",
              "dispatch", "queued_at", "runs", "worker", "lease_until", "ticket", "report_seq"}
#: Columns added after schema 1 (job execution on workers); older ledgers get them on open.
_ADDED_COLUMNS = {"dispatch": "TEXT NOT NULL DEFAULT ''", "queued_at": "REAL NOT NULL DEFAULT 0",
                  "runs": "INTEGER NOT NULL DEFAULT 0", "worker": "TEXT NOT NULL DEFAULT ''",
                  "lease_until": "REAL NOT NULL DEFAULT 0", "ticket": "TEXT NOT NULL DEFAULT ''",
                  "report_seq": "INTEGER NOT NULL DEFAULT 0"}


@dataclass(frozen=True)
class Event:
    """One audit record: a state change, a pipeline step, a review, a send attempt."""

    at: float
    kind: str
    state: str | None
    detail: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"at": _iso(self.at), "kind": self.kind, "state": self.state, "detail": self.detail}


@dataclass(frozen=True)
class Job:
    """One series and everything the node did with it (see the ``jobs`` table)."""

    id: int
    series_uid: str
    state: JobState
    row: dict[str, Any] = field(repr=False)

    def __getitem__(self, key: str) -> Any:
        return self.row[key]

    @property
    def findings(self) -> list[dict[str, Any]]:
        return list(json.loads(self.row["findings"] or "[]"))

    @property
    def verification(self) -> dict[str, Any]:
        return dict(json.loads(self.row["verification"] or "{}"))

    def to_dict(self, include_patient: bool = True) -> dict[str, Any]:
        data = {k: v for k, v in self.row.items() if k not in ("findings", "verification")}
        data.update(state=self.state.value, findings=self.findings, verification=self.verification)
        for key in ("state_at", "created_at", "last_instance_at", "reviewed_at", "next_attempt_at", "queued_at",
                    "lease_until"):
            data[key] = _iso(data[key]) if data.get(key) else None
        if not include_patient:
            data.pop("patient_id")
        return data


class Ledger:
    """The SQLite ledger at ``path`` (created on first use). One instance per thread."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path).expanduser()
        if not create and not self.path.is_file():
            raise InputError(f"No ledger at {self.path}.", hint="Pass --ledger PATH or --config node.toml.")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._depth = 0  # open _write blocks: only the outermost one begins and commits
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a state change survives a power cut
        self._db.executescript(_TABLES)
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        self._add_columns()

    def _add_columns(self) -> None:
        with self._write() as db:
            present = {row["name"] for row in db.execute("PRAGMA table_info(jobs)")}
            for name, kind in _ADDED_COLUMNS.items():
                if name not in present:
                    db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {kind}")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self._depth:  # inside batch(): the outer block commits or rolls back
            yield self._db
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth += 1
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        finally:
            self._depth -= 1

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Several changes as one transaction: all of them are kept, or (on an exception) none."""
        with self._write():
            yield

    # -- jobs -------------------------------------------------------------------------------
    def add_job(self, series_uid: str, *, source: str, state: JobState = JobState.RECEIVED,
                **values: Any) -> tuple[Job, bool]:
        """The job for ``series_uid``, created if new; returns (job, created)."""
        now = time.time()
        with self._write() as db:
            row = db.execute("SELECT id FROM jobs WHERE series_uid = ?", (series_uid,)).fetchone()
            if row is not None:
                return self.job(row["id"]), False
            cursor = db.execute("INSERT INTO jobs (series_uid, source, state, state_at, created_at) "
                                "VALUES (?, ?, ?, ?, ?)", (series_uid, source, state.value, now, now))
            job_id = int(cursor.lastrowid or 0)
            self._set(db, job_id, values)
            self._event(db, job_id, "state", state.value, {"source": source}, now)
        return self.job(job_id), True

    def job(self, job_id: int | str) -> Job:
        row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (_job_id(job_id),)).fetchone()
        if row is None:
            raise InputError(f"No job {job_id} in {self.path}.", hint="List the jobs with `oarcontour jobs list`.")
        return _job(row)

    def job_for_series(self, series_uid: str) -> Job | None:
        row = self._db.execute("SELECT * FROM jobs WHERE series_uid = ?", (series_uid,)).fetchone()
        return _job(row) if row is not None else None

    def jobs(self, states: Iterable[JobState] | None = None) -> list[Job]:
        if states is None:
            rows = self._db.execute("SELECT * FROM jobs ORDER BY id").fetchall()
        else:
            wanted = [s.value for s in states]
            marks = ",".join("?" * len(wanted))
            rows = self._db.execute(f"SELECT * FROM jobs WHERE state IN ({marks}) ORDER BY id", wanted).fetchall()
        return [_job(row) for row in rows]

    def update(self, job_id: int, **values: Any) -> None:
        with self._write() as db:
            self._set(db, job_id, values)

    def transition(self, job_id: int, to_state: JobState, from_states: Iterable[JobState], *,
                   detail: dict[str, Any] | None = None, at: float | None = None, **values: Any) -> bool:
        """Move the job to ``to_state`` if it is in one of ``from_states``; False (and no change) otherwise.

        ``at``: when it happened, if not now (a worker's report applied later).
        """
        allowed = [s.value for s in from_states]
        now = time.time() if at is None else at
        with self._write() as db:
            marks = ",".join("?" * len(allowed))
            cursor = db.execute(f"UPDATE jobs SET state = ?, state_at = ? WHERE id = ? AND state IN ({marks})",
                                (to_state.value, now, job_id, *allowed))
            if cursor.rowcount != 1:
                return False
            self._set(db, job_id, values)
            self._event(db, job_id, "state", to_state.value, detail or {}, now)
        return True

    def claim(self, job_id: int, owner: str, lease_seconds: float) -> bool:
        """Take the job's send turn for ``lease_seconds`` (one sender at a time, across processes)."""
        now = time.time()
        with self._write() as db:
            cursor = db.execute("UPDATE jobs SET claimed_by = ?, next_attempt_at = ? WHERE id = ? AND state = ? "
                                "AND next_attempt_at <= ?",
                                (owner, now + lease_seconds, job_id, JobState.SENDING.value, now))
            return cursor.rowcount == 1

    # -- runs on workers (see service.execution; the live lease itself is in the broker) ------------
    def start_run(self, job_id: int, owner: str, ticket: str, run: int, lease_seconds: float) -> bool:
        """A worker started delivery ``ticket`` of an unfinished job: it holds the job now (run ``run``).

        False (no change) when the job is finished or was given to another delivery meanwhile.
        """
        states = [s.value for s in PIPELINE_STATES]
        with self._write() as db:
            cursor = db.execute(
                "UPDATE jobs SET worker = ?, lease_until = ?, dispatch = 'running', runs = MAX(runs, ?), report_seq = 0 "
                "WHERE id = ? AND ticket = ? AND state IN (?, ?, ?)",
                (owner, time.time() + lease_seconds, run, job_id, ticket, *states))
            return cursor.rowcount == 1

    def renew_lease(self, job_id: int, owner: str, lease_seconds: float) -> bool:
        """The node saw ``owner`` alive: its claim lasts ``lease_seconds`` more; False if it holds no claim."""
        with self._write() as db:
            cursor = db.execute("UPDATE jobs SET lease_until = ? WHERE id = ? AND worker = ?",
                                (time.time() + lease_seconds, job_id, owner))
            return cursor.rowcount == 1

    def end_lease(self, job_id: int, owner: str, dispatch: str = "") -> bool:
        """Give the job back (``dispatch`` ``pending`` asks the node to queue it again)."""
        with self._write() as db:
            cursor = db.execute("UPDATE jobs SET worker = '', lease_until = 0, dispatch = ? WHERE id = ? AND worker = ?",
                                (dispatch, job_id, owner))
            return cursor.rowcount == 1

    def change_dispatch(self, job_id: int, to_value: str, from_values: Iterable[str], **values: Any) -> bool:
        """Set the job's ``dispatch`` if it is one of ``from_values`` (a worker's lease is never overwritten)."""
        allowed = list(from_values)
        with self._write() as db:
            cursor = db.execute(f"UPDATE jobs SET dispatch = ? WHERE id = ? AND dispatch IN "
                                f"({','.join('?' * len(allowed))})", (to_value, job_id, *allowed))
            if cursor.rowcount != 1:
                return False
            self._set(db, job_id, values)
        return True

    def sweep_lease(self, job_id: int, owner: str) -> bool:
        """Free an expired lease of ``owner`` (the worker is gone) so the job can be queued again."""
        with self._write() as db:
            cursor = db.execute("UPDATE jobs SET worker = '', lease_until = 0, dispatch = 'pending' "
                                "WHERE id = ? AND worker = ? AND lease_until < ?", (job_id, owner, time.time()))
            return cursor.rowcount == 1

    # -- events -----------------------------------------------------------------------------
    def record(self, job_id: int | None, kind: str, **detail: Any) -> None:
        """Add an audit event (a pipeline step, an association, a send attempt ...)."""
        with self._write() as db:
            self._event(db, job_id, kind, None, detail, time.time())

    def record_at(self, job_id: int | None, kind: str, at: float, detail: dict[str, Any]) -> None:
        """An audit event that happened at ``at`` (a worker's report, applied when it arrives)."""
        with self._write() as db:
            self._event(db, job_id, kind, None, detail, at)

    def events(self, job_id: int | None) -> list[Event]:
        if job_id is None:
            rows = self._db.execute("SELECT * FROM events WHERE job_id IS NULL ORDER BY id").fetchall()
        else:
            rows = self._db.execute("SELECT * FROM events WHERE job_id = ? ORDER BY id", (job_id,)).fetchall()
        return [Event(row["at"], row["kind"], row["state"], json.loads(row["detail"])) for row in rows]

    @staticmethod
    def _event(db: sqlite3.Connection, job_id: int | None, kind: str, state: str | None,
               detail: dict[str, Any], at: float) -> None:
        db.execute("INSERT INTO events (job_id, at, kind, state, detail) VALUES (?, ?, ?, ?, ?)",
                   (job_id, at, kind, state, json.dumps(detail, default=str)))

    @staticmethod
    def _set(db: sqlite3.Connection, job_id: int, values: dict[str, Any]) -> None:
        if not values:
            return
        unknown = set(values) - _UPDATABLE
        if unknown:
            raise ValueError(f"not ledger columns: {sorted(unknown)}")
        encoded = {k: json.dumps(v, default=str) if isinstance(v, (list, dict)) else v for k, v in values.items()}
        assignments = ", ".join(f"{key} = ?" for key in encoded)
        db.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", (*encoded.values(), job_id))


class JobLedger(Protocol):
    """What the pipeline needs of a ledger: the node's :class:`Ledger`, or a worker's report channel."""

    def job(self, job_id: int | str) -> Job: ...

    def update(self, job_id: int, **values: Any) -> None: ...

    def transition(self, job_id: int, to_state: JobState, from_states: Iterable[JobState], *,
                   detail: dict[str, Any] | None = None, at: float | None = None, **values: Any) -> bool: ...

    def record(self, job_id: int | None, kind: str, **detail: Any) -> None: ...


def owner_id() -> str:
    """Who holds a send claim: host and process id, so a restarted node can tell its dead claims."""
    return f"{os.uname().nodename}:{os.getpid()}"


def _job_id(value: int | str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InputError(f"{value!r} is not a job number.",
                         hint="Job numbers are listed by `oarcontour jobs list`.") from None


def _job(row: sqlite3.Row) -> Job:
    data = dict(row)
    return Job(int(data["id"]), str(data["series_uid"]), JobState(data["state"]), data)


def _iso(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at % 1 * 1000):03d}Z"
