"""One process at a time runs a ledger's jobs: an exclusive lock file beside the ledger names the holder.

The node resumes every interrupted job of its ledger and sends its approved ones; ``oarcontour run``
runs the pipeline on the same ledger. Two of them on one ledger would both pick up the same job.
So each holds ``<ledger>.lock`` (an exclusive ``flock``) for as long as it runs, and writes its role,
``host:pid`` and start time into it. The kernel drops the lock when the holder ends in any way (even
``kill -9``), so a crashed node never blocks its restart: the text it left is reported as taken
over. The file itself stays (deleting it would let a late opener lock a file nobody else sees).
Readers and reviewers (``oarcontour jobs``, Slicer's review methods) never take the lock: each of
their changes is a conditional transition, which the ledger keeps safe across processes.

The spool gets the same lock (``<spool>/spool.lock``): job folders are named by job number, so two
ledgers on one spool would file into, and retention would remove, each other's folders.

The ledger must be on a local file system (SQLite's WAL mode needs that too), where ``flock`` is exact.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from ..errors import InputError
from .ledger import owner_id

logger = logging.getLogger(__name__)


class LedgerInUseError(InputError):
    """Another live process (a node, or ``oarcontour run``) holds the ledger's (or the spool's) lock."""


@dataclass(frozen=True)
class LockHolder:
    """Who holds (or, left in the file after a crash, held) a ledger: ``role`` node or run, ``owner`` host:pid."""

    role: str
    owner: str
    since: float

    @classmethod
    def parse(cls, text: str) -> LockHolder | None:
        try:
            data = json.loads(text)
            return cls(str(data["role"]), str(data["owner"]), float(data["since"]))
        except (ValueError, KeyError, TypeError):
            return None

    def describe(self) -> str:
        host, _, pid = self.owner.rpartition(":")
        since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.since))
        return f"oarcontour {self.role} (pid {pid} on host {host}, since {since})"

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "owner": self.owner, "since": self.since}


def lock_path(ledger: Path) -> Path:
    ledger = Path(ledger).expanduser()
    return ledger.with_name(ledger.name + ".lock")


class LedgerLock:
    """The ledger's lock for one process; :meth:`acquire` before touching the jobs, :meth:`release` at the end."""

    def __init__(self, ledger: Path, role: str) -> None:
        self.ledger = Path(ledger).expanduser()
        self.path = lock_path(self.ledger)
        self.role = role
        self.what = f"ledger {self.ledger}"
        self.risk = "a second process on it could run the same job twice"
        self._fd: int | None = None

    @classmethod
    def of_spool(cls, spool: Path, role: str) -> LedgerLock:
        """The lock of a spool (``<spool>/spool.lock``), taken after the ledger's."""
        lock = cls(Path(spool).expanduser() / "spool", role)
        lock.what = f"spool {Path(spool).expanduser()}"
        lock.risk = "job folders are named by job number, so two ledgers on it would mix (and remove) each other's"
        return lock

    def acquire(self) -> LockHolder | None:
        """Take the lock; returns the holder a crash left in the file (None after a clean release).

        Raises
        ------
        LedgerInUseError
            Another live process holds it: the message names the ledger and that process.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_lock(fd):  # held: the holder's text says by whom
            holder = LockHolder.parse(_read(fd))
            os.close(fd)
            who = holder.describe() if holder else "another oarcontour process (starting up)"
            raise LedgerInUseError(
                f"The {self.what} is in use by {who}; {self.risk}.",
                hint="Stop that process first, or give this one its own node.ledger and node.spool; "
                     "`oarcontour jobs` works beside a running node.") from None
        try:
            left = LockHolder.parse(_read(fd))
            mine = LockHolder(self.role, owner_id(), time.time())
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, json.dumps(mine.to_dict()).encode("utf-8"))
            os.fsync(fd)
        except OSError:  # a full or read-only disk: do not keep a lock nobody will release
            os.close(fd)
            raise
        self._fd = fd
        if left is not None:
            logger.warning("Took over the ledger lock left by %s, which is gone (crashed or killed)", left.describe())
        return left

    def release(self) -> None:
        """Give the lock back; the emptied file tells the next holder the release was clean."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing the descriptor drops the lock

    def __enter__(self) -> LedgerLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.release()


#: On Windows the lock is one byte far past the text, so others can still read who holds it.
_WINDOWS_LOCK_OFFSET = 1 << 20


def _try_lock(fd: int) -> bool:
    """An exclusive, non-blocking lock the system drops when the process ends; False when another holds it."""
    try:
        if sys.platform == "win32":
            import msvcrt

            os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _read(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, 4096).decode("utf-8", errors="replace")
