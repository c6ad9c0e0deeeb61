"""The node's main loop: file released associations, close quiet series, run the pipeline, send.

One thread does all ledger work; association threads only write files and post to a queue. A
stop request (SIGTERM, Ctrl-C) is honoured between steps: the current job stays in its state and
resumes on the next start, as do jobs interrupted by a crash. The node holds its ledger's lock
(:mod:`.ledger_lock`) from before it touches the spool until it has stopped, and removes finished
jobs' spool folders (:mod:`.retention`) every few minutes.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from .config import NodeConfig
from .execution import JobRunner, make_runner
from .intake import Intake
from .ledger import JobState, Ledger, owner_id
from .ledger_lock import LedgerLock, LockHolder
from .retention import SWEEP_SECONDS, remove_finished
from .sender import queue_approved, release_dead_claims, send_due
from .spool import closable_jobs, drop_unreleased, file_association

logger = logging.getLogger(__name__)

#: Main-loop period: how quickly a release, a closed series or a due retry is noticed.
TICK_SECONDS = 0.2
#: After an unexpected error in the loop (e.g. the ledger locked too long), wait this long before going on.
ERROR_PAUSE_SECONDS = 5.0


class Node:
    """A running node; :meth:`run` blocks until :meth:`request_stop`."""

    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self.stopping = threading.Event()
        self.owner = owner_id()
        self.retention_due = 0.0  # monotonic time of the next spool retention sweep (the first at start)

    def request_stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        """Serve until :meth:`request_stop`; refused (LedgerInUseError) while another process holds the ledger."""
        # Before anything: a second node would resume the first one's jobs and drop its staging folders.
        lock, spool_lock = LedgerLock(self.config.node.ledger, "node"), LedgerLock.of_spool(self.config.node.spool, "node")
        left = lock.acquire()
        try:
            spool_lock.acquire()
            self._serve(left)
        finally:
            spool_lock.release()
            lock.release()

    def _serve(self, left: LockHolder | None) -> None:
        config = self.config
        config.node.spool.mkdir(parents=True, exist_ok=True)
        ledger = Ledger(config.node.ledger)
        intake = Intake(config)
        self.runner: JobRunner = make_runner(config, self.stopping.is_set)
        try:
            self._recover(ledger)
            intake.start()
            ledger.record(None, "node_started", ae_title=config.node.ae_title, port=config.node.port,
                          review_mode=config.review.mode, **({"lock_taken_over": left.to_dict()} if left else {}))
            while not self.stopping.is_set():
                try:
                    self._tick(ledger, intake)
                except Exception:  # noqa: BLE001 - a node keeps serving; the job stays in its state
                    logger.exception("Error in the node's main loop; retrying in %.0f s", ERROR_PAUSE_SECONDS)
                    self.stopping.wait(ERROR_PAUSE_SECONDS)
                self.stopping.wait(TICK_SECONDS)
        finally:
            intake.stop()
            self._drain(ledger, intake)
            self.runner.close()
            ledger.record(None, "node_stopped")
            ledger.close()
            logger.info("Node stopped")

    def _recover(self, ledger: Ledger) -> None:
        drop_unreleased(self.config, ledger)
        release_dead_claims(ledger)
        unfinished = ledger.jobs([JobState.CHECKED, JobState.CONTOURING, JobState.APPROVED, JobState.SENDING])
        if unfinished:
            logger.info("Resuming %d unfinished jobs", len(unfinished))

    def _tick(self, ledger: Ledger, intake: Intake) -> None:
        self._drain(ledger, intake)
        self.runner.maintain(ledger)  # resume interrupted jobs; with workers also queue and sweep
        for job_id in closable_jobs(ledger, self.config, intake.open_staging):
            if self.stopping.is_set():
                return
            if ledger.job(job_id)["dispatch"]:
                continue  # closed already, waiting for a worker
            ledger.record(job_id, "series_closed", quiet_seconds=self.config.node.quiet_seconds)
            self.runner.dispatch(ledger, job_id)
            self._drain(ledger, intake)
        queue_approved(ledger, self.config)
        if not self.stopping.is_set():
            send_due(ledger, self.config, self.owner)
        if time.monotonic() >= self.retention_due and not self.stopping.is_set():
            self.retention_due = time.monotonic() + SWEEP_SECONDS
            remove_finished(ledger, self.config)

    @staticmethod
    def _drain(ledger: Ledger, intake: Intake) -> None:
        while True:
            try:
                ended = intake.ended.get_nowait()
            except queue.Empty:
                return
            file_association(ledger, intake.config, ended)

