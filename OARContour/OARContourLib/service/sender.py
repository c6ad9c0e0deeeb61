"""Send a job's RTSTRUCT to the destination by C-STORE, with retries and back-off recorded in the ledger.

A job is sent only from ``sending``, by whoever holds its claim (:meth:`.Ledger.claim`), and only if
its export passed verification. Success moves it to ``sent`` once; a failure schedules the next
attempt (doubling up to ``retry_max_seconds``) and the job stays in ``sending``: it is never lost.
Re-sending the same file after a crash between "accepted" and "recorded" sends the same SOP
Instance UID, which a PACS or TPS stores once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ExportError
from .config import NodeConfig
from .ledger import Job, JobState, Ledger, owner_id
from .tls import client_context

logger = logging.getLogger(__name__)

RT_STRUCTURE_SET_STORAGE = "1.2.840.10008.5.1.4.1.1.481.3"
#: How long a sender may hold a job before another process may try it (longer than one attempt).
CLAIM_SECONDS = 120.0
#: C-STORE statuses that mean the destination kept the object (success and the warning statuses).
_STORED = {0x0000, 0xB000, 0xB007, 0xB006}


@dataclass(frozen=True)
class StoreResult:
    """One C-STORE attempt: the DIMSE status (None when no association) and what went wrong."""

    status: int | None
    error: str = ""

    @property
    def stored(self) -> bool:
        return self.status in _STORED

    def to_dict(self) -> dict[str, Any]:
        return {"status": None if self.status is None else f"0x{self.status:04X}", "error": self.error}


def store(path: Path, config: NodeConfig) -> StoreResult:
    """C-STORE one file to ``config.destination``; never raises for network trouble."""
    from pynetdicom import AE
    from pynetdicom.sop_class import RTStructureSetStorage  # type: ignore[attr-defined]

    destination = config.destination
    ae = AE(ae_title=config.node.ae_title)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 30
    ae.connection_timeout = 10
    ae.add_requested_context(RTStructureSetStorage)
    context = client_context(config.tls)
    tls_args = (context, destination.host) if context is not None else None
    assoc = ae.associate(destination.host, destination.port, ae_title=destination.ae_title, tls_args=tls_args)
    if not assoc.is_established:
        return StoreResult(None, f"no association with {destination.ae_title}@{destination.host}:{destination.port} "
                                 f"({'rejected' if assoc.is_rejected else 'unreachable or aborted'})")
    try:
        status = assoc.send_c_store(path)
    finally:
        if assoc.is_established:
            assoc.release()
    code = getattr(status, "Status", None)
    if code is None:
        return StoreResult(None, "no C-STORE response (timeout or abort)")
    return StoreResult(int(code), "" if int(code) in _STORED else "the destination refused the object")


def queue_approved(ledger: Ledger, config: NodeConfig) -> None:
    """Move approved jobs to ``sending`` with their first attempt due now."""
    destination = f"{config.destination.ae_title}@{config.destination.host}:{config.destination.port}"
    for job in ledger.jobs([JobState.APPROVED]):
        if job.verification.get("has_errors", True):
            continue  # never sent: the approval path refuses these, this is the second lock
        ledger.transition(job.id, JobState.SENDING, [JobState.APPROVED], destination=destination,
                          attempts=0, next_attempt_at=0.0, detail={"destination": destination})


def send_due(ledger: Ledger, config: NodeConfig, owner: str | None = None) -> list[Job]:
    """Attempt every ``sending`` job whose next attempt is due; returns the jobs attempted, as they end."""
    owner = owner or owner_id()
    attempted = []
    for job in ledger.jobs([JobState.SENDING]):
        if job.verification.get("has_errors", True):
            continue  # never sent (the approval paths refuse these; this keeps the loop going if one slips in)
        if job["next_attempt_at"] <= time.time() and ledger.claim(job.id, owner, CLAIM_SECONDS):
            attempted.append(send_job(ledger, ledger.job(job.id), config))
    return attempted


def send_job(ledger: Ledger, job: Job, config: NodeConfig) -> Job:
    """One attempt for a claimed job in ``sending``; records it, then ``sent`` or the next attempt time."""
    if job.verification.get("has_errors", True):
        raise ExportError(f"Job {job.id}: its RTSTRUCT failed verification; it is never sent.",
                          hint="Correct the structures in Slicer and approve them again (approveJob).")
    attempt = int(job["attempts"]) + 1
    started = time.perf_counter()
    result = store(Path(job["rtstruct_path"]), config)
    seconds = round(time.perf_counter() - started, 3)
    ledger.record(job.id, "send_attempt", attempt=attempt, seconds=seconds, **result.to_dict())
    status = result.to_dict()["status"] or ""
    if result.stored:
        ledger.transition(job.id, JobState.SENT, [JobState.SENDING], attempts=attempt, store_status=status,
                          claimed_by="", detail={"status": status, "attempt": attempt})
        logger.info("Job %d: sent (status %s, attempt %d)", job.id, status, attempt)
    else:
        delay = backoff_seconds(attempt, config)
        ledger.update(job.id, attempts=attempt, store_status=result.error, next_attempt_at=time.time() + delay,
                      claimed_by="")
        logger.warning("Job %d: send attempt %d failed (%s); next in %.0f s", job.id, attempt, result.error, delay)
    return ledger.job(job.id)


def backoff_seconds(attempt: int, config: NodeConfig) -> float:
    """Delay after failed attempt ``attempt`` (1-based): initial × 2^(attempt-1), capped."""
    destination = config.destination
    return float(min(destination.retry_initial_seconds * 2 ** (attempt - 1), destination.retry_max_seconds))


def release_dead_claims(ledger: Ledger) -> None:
    """After a crash: claims held by processes of this host that no longer exist are freed."""
    import os

    host = os.uname().nodename
    for job in ledger.jobs([JobState.SENDING]):
        claimed = str(job["claimed_by"])
        name, _, pid = claimed.rpartition(":")
        if name == host and pid.isdigit() and not _alive(int(pid)):
            ledger.update(job.id, claimed_by="", next_attempt_at=0.0)
            ledger.record(job.id, "claim_released", previous_owner=claimed)


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
