"""Where a job's pipeline runs: in the node's process (the default) or on Celery workers, one interface.

Both back ends run the same :func:`.pipeline.process_job`. The ledger, not the queue, says what is
left to do: the node hands a closed series to :meth:`JobRunner.dispatch` and calls
:meth:`JobRunner.maintain` on every tick, which (Celery) queues what is ``pending`` and sweeps jobs
whose worker stopped renewing its lease. On a worker, :func:`run_leased` takes the job's lease in
the ledger before running it, so a task delivered twice (a broker redelivery, a re-queue after a
sweep) runs the job once; a job that already finished is skipped. Sending stays with the node.

The ``dispatch`` column: ``""`` nothing asked, ``pending`` to be queued, ``queued`` in the broker,
``running`` a worker holds the lease (``worker``, ``lease_until``); ``runs`` counts the starts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from .config import NodeConfig
from .ledger import PIPELINE_STATES, Job, JobState, Ledger
from .pipeline import process_job

logger = logging.getLogger(__name__)

#: While the broker cannot be reached, queuing is tried again this often (one ledger event per outage).
ENQUEUE_RETRY_SECONDS = 2.0


class JobRunner(Protocol):
    """Runs the pipeline of the ledger's jobs; the node calls these from its main loop only."""

    def dispatch(self, ledger: Ledger, job_id: int) -> None:
        """A closed series (job in ``received``) is ready for the pipeline."""

    def maintain(self, ledger: Ledger) -> None:
        """Every tick: resume interrupted jobs, queue pending ones, sweep lost ones."""

    def close(self) -> None:
        """Release connections (the node is stopping)."""


#: What runs one job: the contouring pipeline, or (a gateway) de-identify out / re-identify back.
JobProcess = Callable[[Ledger, Job, NodeConfig, Callable[[], bool]], Any]


class InProcessRunner:
    """The default: the pipeline runs in the node's main loop, one job at a time; nothing else needed."""

    def __init__(self, config: NodeConfig, stop: Callable[[], bool], process: JobProcess = process_job) -> None:
        self.config, self.stop, self.process = config, stop, process

    def dispatch(self, ledger: Ledger, job_id: int) -> None:
        self.process(ledger, ledger.job(job_id), self.config, self.stop)

    def maintain(self, ledger: Ledger) -> None:
        for job in ledger.jobs(PIPELINE_STATES):
            if self.stop():
                return
            if job["dispatch"]:  # left queued by a node that used workers before: run it here
                ledger.update(job.id, dispatch="", worker="", lease_until=0.0)
            elif job.state is JobState.RECEIVED:
                continue  # still collecting instances
            self.process(ledger, ledger.job(job.id), self.config, self.stop)  # interrupted by a stop or crash

    def close(self) -> None:
        return None


class CeleryRunner:
    """Jobs go to Celery workers through the broker; the ledger keeps the state, the sweep the liveness."""

    def __init__(self, config: NodeConfig, app: Any | None = None) -> None:
        from .celery_app import make_app, queue_for

        self.config = config
        self.app = app if app is not None else make_app(config)
        self.queue = queue_for(config.pipeline.engine)
        self.retry_at = 0.0
        self.outage: set[int] = set()  # jobs whose failed enqueue is already recorded

    def dispatch(self, ledger: Ledger, job_id: int) -> None:
        ledger.update(job_id, dispatch="pending")
        self._enqueue(ledger, ledger.job(job_id))

    def maintain(self, ledger: Ledger) -> None:
        now = time.time()
        for job in ledger.jobs(PIPELINE_STATES):
            dispatch = job["dispatch"]
            if dispatch == "running" and float(job["lease_until"]) < now:
                self._sweep(ledger, job)
            elif dispatch == "queued" and now - float(job["queued_at"]) > self.config.queue.visibility_timeout_seconds:
                # Never started though the broker should have redelivered by now (a broker restarted
                # without persistence loses its queue): queue it again; a duplicate delivery is skipped.
                if ledger.change_dispatch(job.id, "pending", ["queued"]):
                    ledger.record(job.id, "requeued", reason="queued longer than the visibility timeout")
            elif dispatch == "" and job.state is not JobState.RECEIVED:
                ledger.change_dispatch(job.id, "pending", [""])  # interrupted under another back end
        if now < self.retry_at:
            return
        if self.outage and not broker_reachable(self.config):
            self.retry_at = now + ENQUEUE_RETRY_SECONDS  # still down: no publish attempt, no event
            return
        for job in ledger.jobs(PIPELINE_STATES):
            if job["dispatch"] == "pending" and not self._enqueue(ledger, job):
                return

    def close(self) -> None:
        self.app.close()

    def _sweep(self, ledger: Ledger, job: Job) -> None:
        worker, run = str(job["worker"]), int(job["runs"])
        if not ledger.sweep_lease(job.id, worker):
            return  # renewed meanwhile
        if run >= self.config.queue.max_runs:
            reason = f"the worker was lost on each of {run} runs (queue.max_runs = {self.config.queue.max_runs})"
            ledger.update(job.id, dispatch="")
            ledger.transition(job.id, JobState.FAILED, PIPELINE_STATES, reason=reason, detail={"reason": reason})
            logger.warning("Job %d failed: %s", job.id, reason)
            return
        ledger.record(job.id, "retry", run=run + 1, previous_worker=worker,
                      reason=f"no heartbeat for {self.config.queue.lease_seconds:g} s: worker gone")
        logger.warning("Job %d: worker %s stopped renewing its lease; queued again (run %d)", job.id, worker, run + 1)

    def _enqueue(self, ledger: Ledger, job: Job) -> bool:
        run = int(job["runs"]) + 1
        task_id = f"oarcontour-job{job.id}-run{run}-{time.time_ns()}"
        # Recorded before publishing: a fast worker must find the job queued (not overwrite its lease
        # afterwards), and the history must show "queued" before "started".
        if not ledger.change_dispatch(job.id, "queued", ["pending"], queued_at=time.time()):
            return True  # changed meanwhile (swept, taken): nothing to queue
        ledger.record(job.id, "queued", queue=self.queue, run=run, task_id=task_id)
        try:
            self.app.send_task("oarcontour.contour", args=[job.id], queue=self.queue, task_id=task_id, retry=False)
        except Exception as exc:  # noqa: BLE001 - kombu/redis connection errors: the job stays pending
            ledger.change_dispatch(job.id, "pending", ["queued"])
            self.retry_at = time.time() + ENQUEUE_RETRY_SECONDS
            if job.id not in self.outage:
                self.outage.add(job.id)
                ledger.record(job.id, "enqueue_failed", broker=self.config.queue.broker, error=str(exc)[:200])
                logger.warning("Job %d: cannot queue it (%s); retrying every %.0f s", job.id, exc,
                               ENQUEUE_RETRY_SECONDS)
            return False
        self.outage.discard(job.id)
        return True


def broker_reachable(config: NodeConfig) -> bool:
    from .celery_app import BrokerError, check_broker

    try:
        check_broker(config)
    except BrokerError:
        return False
    return True


def make_runner(config: NodeConfig, stop: Callable[[], bool]) -> JobRunner:
    """The back end ``[queue]`` asks for: Celery when a broker is set, else in-process.

    A gateway (``[gateway]``) only forwards and re-identifies, which is quick: always in-process
    (the configuration refuses ``[queue]`` beside ``[gateway]``).
    """
    if config.gateway is not None:
        from .gateway import process_gateway_job

        return InProcessRunner(config, stop, process_gateway_job)
    if config.queue.enabled:
        return CeleryRunner(config)
    return InProcessRunner(config, stop)


# -- the worker's side ----------------------------------------------------------------------------
def run_leased(config: NodeConfig, job_id: int, owner: str) -> str:
    """Run one delivered job under a lease in the ledger; returns the job's state, or ``skipped``.

    Skipped: the job is finished or another live worker holds it (a duplicate delivery). The lease
    is renewed every ``heartbeat_seconds``; when a renewal fails (the node swept the job) the
    pipeline stops between steps and leaves the job to its new run.
    """
    from .sender import _alive

    ledger = Ledger(config.node.ledger)
    try:
        job = ledger.job(job_id)
        holder = str(job["worker"])
        dead = [holder] if holder and not _owner_alive(holder, _alive) else []
        if not ledger.take_lease(job_id, owner, config.queue.lease_seconds, dead=dead):
            ledger.record(job_id, "delivery_skipped", worker=owner, state=job.state.value, holder=holder)
            return "skipped"
        job = ledger.job(job_id)
        queued = float(job["queued_at"])
        ledger.record(job_id, "started", worker=owner, run=int(job["runs"]),
                      waited_seconds=round(time.time() - queued, 3) if queued else None,
                      **({"took_over_from": holder} if dead else {}))
        return _run_with_heartbeat(ledger, config, job, owner)
    finally:
        ledger.close()


def _run_with_heartbeat(ledger: Ledger, config: NodeConfig, job: Job, owner: str) -> str:
    lost, done = threading.Event(), threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(config, job.id, owner, lost, done), daemon=True,
                            name=f"lease-job{job.id}")
    beat.start()
    try:
        job = process_job(ledger, job, config, stop=lost.is_set)
    finally:
        done.set()
        beat.join()
    if not lost.is_set():
        unfinished = job.state in PIPELINE_STATES  # stopped between steps: the node queues it again
        ledger.end_lease(job.id, owner, "pending" if unfinished else "")
    return job.state.value


def _heartbeat(config: NodeConfig, job_id: int, owner: str, lost: threading.Event, done: threading.Event) -> None:
    ledger = Ledger(config.node.ledger)  # one connection per thread
    try:
        while not done.wait(config.queue.heartbeat_seconds):
            if not ledger.renew_lease(job_id, owner, config.queue.lease_seconds):
                lost.set()
                ledger.record(job_id, "lease_lost", worker=owner)
                logger.warning("Job %d: lease lost (swept by the node); stopping this run", job_id)
                return
    finally:
        ledger.close()


def _owner_alive(owner: str, alive: Callable[[int], bool]) -> bool:
    """False only for a holder on this host whose process is gone; a remote holder is trusted to its lease."""
    import os

    host, _, pid = owner.rpartition(":")
    return not (host == os.uname().nodename and pid.isdigit() and not alive(int(pid)))
