"""Spool retention: a finished job's folder leaves the spool ``node.keep_finished_days`` after the job ended.

Only ``<spool>/jobs/<id>/`` is ever removed (the received CT, the RTSTRUCT and reports, a gateway's
de-identified copy), and only for a job in a final state (sent, rejected, failed) whose last state
change is older than the setting. The folder is found from the job's number, never from the paths
stored in the ledger, so a ``run`` job's input CT or ``--out`` folder is never touched; a folder that
is a symbolic link, or resolves outside the spool's ``jobs`` folder, is left alone. On a gateway, an
original CT stays while a returned structure set that was re-identified onto it is still open
(awaiting review, approved or sending). Each removal is a ``spool_removed`` event of the job.
``0`` keeps everything. The node runs :func:`remove_finished` at start and every :data:`SWEEP_SECONDS`.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import NodeConfig
from .ledger import FINAL_STATES, JobState, Ledger
from .spool import jobs_root

logger = logging.getLogger(__name__)

#: How often the node looks for finished jobs to remove (the ages are days; a tick is 0.2 s).
SWEEP_SECONDS = 300.0
_DAY_SECONDS = 86400.0


@dataclass(frozen=True)
class Removal:
    """One job folder removed from the spool: how many files and bytes, and how long after the job ended."""

    job_id: int
    folder: Path
    files: int
    bytes: int
    ended_days_ago: float

    def to_dict(self) -> dict[str, Any]:
        return {"job": self.job_id, "folder": str(self.folder), "files": self.files, "bytes": self.bytes,
                "ended_days_ago": round(self.ended_days_ago, 2)}


def remove_finished(ledger: Ledger, config: NodeConfig, now: float | None = None) -> list[Removal]:
    """Remove the spool folders of final jobs that ended more than ``node.keep_finished_days`` ago."""
    days = config.node.keep_finished_days
    root = jobs_root(config)
    if days <= 0 or not root.is_dir():
        return []
    now = time.time() if now is None else now
    due = [job for job in ledger.jobs(FINAL_STATES) if now - float(job["state_at"]) > days * _DAY_SECONDS]
    if not due:
        return []
    kept = awaiting_return(ledger) if config.gateway is not None else set()
    removals = []
    for job in due:
        folder = job_folder(root, job.id)
        if folder is None or job.id in kept:
            continue
        removal = _remove(folder, job.id, (now - float(job["state_at"])) / _DAY_SECONDS)
        if removal is not None:
            ledger.record(job.id, "spool_removed", keep_finished_days=days, **removal.to_dict())
            removals.append(removal)
    if removals:
        logger.info("Spool retention: removed the folders of %d finished jobs (%.1f MB)", len(removals),
                    sum(r.bytes for r in removals) / 1e6)
    return removals


def job_folder(root: Path, job_id: int) -> Path | None:
    """``root/<job_id>`` if it is a real folder directly in ``root`` (the spool's ``jobs``); None otherwise."""
    folder = root / str(int(job_id))
    if folder.is_symlink() or not folder.is_dir():
        return None
    if folder.resolve().parent != root.resolve():
        logger.warning("Spool retention: %s resolves outside %s; left alone", folder, root)
        return None
    return folder


def awaiting_return(ledger: Ledger) -> set[int]:
    """A gateway's original CT jobs that an open returned structure set was re-identified onto."""
    open_states = [s for s in JobState if s not in FINAL_STATES]
    originals = set()
    for job in ledger.jobs(open_states):
        for event in ledger.events(job.id):
            if event.kind == "step" and event.detail.get("step") == "reidentify" and "original_job" in event.detail:
                originals.add(int(event.detail["original_job"]))
    return originals


def _remove(folder: Path, job_id: int, ended_days_ago: float) -> Removal | None:
    files = size = 0
    try:
        for root, _dirs, names in os.walk(folder):  # never follows links: a link inside is removed, not its target
            for name in names:
                files += 1
                size += os.lstat(os.path.join(root, name)).st_size
        shutil.rmtree(folder)
    except OSError as exc:
        logger.warning("Spool retention: cannot remove the folder of job %d (%s); tried again later", job_id, exc)
        return None
    return Removal(job_id, folder, files, size, ended_days_ago)
