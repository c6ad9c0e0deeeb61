"""Where a job's pipeline runs: in the node's process (the default) or on Celery workers, one interface.

Both back ends run the same :func:`.pipeline.process_job`. The ledger, not the queue, says what is
left to do, and only the node writes it: the node hands a closed series to
:meth:`JobRunner.dispatch` and calls :meth:`JobRunner.maintain` on every tick, which (Celery)
applies the workers' reports (:mod:`.worker_reports`), watches their leases in the broker
(:mod:`.broker_leases`), sweeps jobs whose worker is gone and queues what is ``pending``. A worker
(:func:`run_delivery`) takes the job's lease, runs the pipeline against a :class:`.JobReporter` and
renews the lease while it runs; it needs the broker and the spool, never the ledger. Sending stays
with the node.

The ``dispatch`` column: ``""`` nothing asked, ``pending`` to be queued, ``queued`` in the broker
(delivery ``ticket``), ``running`` a worker holds it (``worker``; ``lease_until`` is when the node
last saw its lease plus ``queue.lease_seconds``); ``runs`` counts the starts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from .config import NodeConfig
from .ledger import PIPELINE_STATES, Job, JobState, Ledger
from .pipeline import process_job

if TYPE_CHECKING:  # redis is optional: the worker's side imports it on first use
    from .worker_reports import JobReporter

logger = logging.getLogger(__name__)

#: While the broker cannot be reached, it is tried again this often (one ledger event per outage).
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
                ledger.update(job.id, dispatch="", worker="", lease_until=0.0, ticket="")
            elif job.state is JobState.RECEIVED:
                continue  # still collecting instances
            self.process(ledger, ledger.job(job.id), self.config, self.stop)  # interrupted by a stop or crash

    def close(self) -> None:
        return None


class CeleryRunner:
    """Jobs go to Celery workers through the broker; the node keeps the ledger, the leases tell who is alive."""

    def __init__(self, config: NodeConfig, app: Any | None = None) -> None:
        from .broker_leases import BrokerKeys
        from .celery_app import broker_client, celery_queue, make_app, queue_for
        from .config import shown_broker

        self.config = config
        self.app = app if app is not None else make_app(config)
        self.client = broker_client(config)
        self.keys = BrokerKeys.of(config)
        self.queue = celery_queue(config, queue_for(config.pipeline.engine))
        self.broker = shown_broker(config.queue.broker)  # for logs and the ledger: no password
        self.retry_at = 0.0
        self.outage: set[int] = set()  # jobs whose failed enqueue is already recorded
        #: Since when the broker answers: no sweep before a whole lease has passed (workers renew first).
        self.reachable_since = time.time()

    def dispatch(self, ledger: Ledger, job_id: int) -> None:
        ledger.update(job_id, dispatch="pending")
        self._enqueue(ledger, ledger.job(job_id))

    def maintain(self, ledger: Ledger) -> None:
        from redis import RedisError

        now = time.time()
        self._requeue_forgotten(ledger, now)
        if now < self.retry_at:
            return
        try:
            self._apply_reports(ledger)
            self._watch_leases(ledger, now)
        except RedisError as exc:
            if self.reachable_since:
                logger.warning("Broker %s unreachable (%s); the node goes on and retries every %.0f s",
                               self.broker, exc, ENQUEUE_RETRY_SECONDS)
            self.reachable_since = 0.0
            self.retry_at = now + ENQUEUE_RETRY_SECONDS
            return
        if not self.reachable_since:
            self.reachable_since = now
            logger.info("Broker %s reachable again", self.broker)
        for job in ledger.jobs(PIPELINE_STATES):
            if job["dispatch"] == "pending" and not self._enqueue(ledger, job):
                return

    def close(self) -> None:
        self.app.close()
        self.client.close()

    def _requeue_forgotten(self, ledger: Ledger, now: float) -> None:
        for job in ledger.jobs(PIPELINE_STATES):
            dispatch = job["dispatch"]
            if dispatch == "queued" and now - float(job["queued_at"]) > self.config.queue.visibility_timeout_seconds:
                # Never started though the broker should have redelivered by now (a broker restarted
                # without persistence loses its queue): queue it again; the old delivery turns stale.
                if ledger.change_dispatch(job.id, "pending", ["queued"]):
                    ledger.record(job.id, "requeued", reason="queued longer than the visibility timeout")
            elif dispatch == "" and job.state is not JobState.RECEIVED:
                ledger.change_dispatch(job.id, "pending", [""])  # interrupted under another back end

    def _apply_reports(self, ledger: Ledger) -> None:
        from . import broker_leases
        from .worker_reports import apply_reports

        for ended in apply_reports(ledger, self.client, self.keys, self.config.queue.lease_seconds):
            broker_leases.release(self.client, self.keys, ended.job_id, ended.owner, finished=ended.finished)

    def _watch_leases(self, ledger: Ledger, now: float) -> None:
        from . import broker_leases

        queue = self.config.queue
        running = [job for job in ledger.jobs(PIPELINE_STATES) if job["dispatch"] == "running"]
        holders = broker_leases.holders(self.client, self.keys, [job.id for job in running])
        for job in running:
            worker, seen_until = str(job["worker"]), float(job["lease_until"])
            if holders[job.id] == worker:
                if seen_until - now < queue.lease_seconds - queue.heartbeat_seconds:
                    ledger.renew_lease(job.id, worker, queue.lease_seconds)  # at most once a heartbeat
            elif seen_until < now and now - self.reachable_since >= queue.lease_seconds:
                self._sweep(ledger, job)

    def _sweep(self, ledger: Ledger, job: Job) -> None:
        from . import broker_leases

        worker, run = str(job["worker"]), int(job["runs"])
        if not ledger.sweep_lease(job.id, worker):
            return  # renewed meanwhile
        if run >= self.config.queue.max_runs:
            reason = f"the worker was lost on each of {run} runs (queue.max_runs = {self.config.queue.max_runs})"
            ledger.update(job.id, dispatch="", ticket="")
            ledger.transition(job.id, JobState.FAILED, PIPELINE_STATES, reason=reason, detail={"reason": reason})
            broker_leases.forget(self.client, self.keys, job.id)
            logger.warning("Job %d failed: %s", job.id, reason)
            return
        ledger.record(job.id, "retry", run=run + 1, previous_worker=worker,
                      reason=f"no heartbeat for {self.config.queue.lease_seconds:g} s: worker gone")
        logger.warning("Job %d: worker %s stopped renewing its lease; queued again (run %d)", job.id, worker, run + 1)

    def _enqueue(self, ledger: Ledger, job: Job) -> bool:
        from . import broker_leases
        from .celery_app import TASK_NAME
        from .worker_reports import task_job

        runs = int(job["runs"])
        ticket = f"oarcontour-job{job.id}-run{runs + 1}-{time.time_ns()}"
        # Recorded before publishing: a fast worker's report must find the job queued under this
        # ticket, and the history must show "queued" before "started".
        if not ledger.change_dispatch(job.id, "queued", ["pending"], queued_at=time.time(), ticket=ticket):
            return True  # changed meanwhile (swept, taken): nothing to queue
        ledger.record(job.id, "queued", queue=self.queue, run=runs + 1, task_id=ticket)
        try:
            broker_leases.offer(self.client, self.keys, job.id, ticket, runs)
            self.app.send_task(TASK_NAME, args=[task_job(ledger.job(job.id)), ticket], queue=self.queue,
                               task_id=ticket, retry=False)
        except Exception as exc:  # noqa: BLE001 - kombu/redis connection errors: the job stays pending
            ledger.change_dispatch(job.id, "pending", ["queued"])
            self.retry_at = time.time() + ENQUEUE_RETRY_SECONDS
            self.reachable_since = 0.0
            if job.id not in self.outage:
                self.outage.add(job.id)
                ledger.record(job.id, "enqueue_failed", broker=self.broker, error=str(exc)[:200])
                logger.warning("Job %d: cannot queue it (%s); retrying every %.0f s", job.id, exc,
                               ENQUEUE_RETRY_SECONDS)
            return False
        self.outage.discard(job.id)
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
def run_delivery(config: NodeConfig, task: dict[str, Any], ticket: str, owner: str) -> str:
    """Run one delivered job under its lease, reporting to the node; returns the job's state, or ``skipped``.

    Skipped: the delivery is stale (the node queued another, or the job is finished) or another
    live worker holds the job. The lease is renewed every ``heartbeat_seconds``; when a renewal is
    refused (the node swept the job) the pipeline stops between steps and leaves the job to its new run.
    """
    from . import broker_leases
    from .broker_leases import BrokerKeys, Claim
    from .celery_app import broker_client
    from .sender import _alive
    from .worker_reports import JobReporter, ReportKind, job_from_task

    queue, keys, job = config.queue, BrokerKeys.of(config), job_from_task(task)
    client = broker_client(config)
    reporter = JobReporter(client, keys, job, ticket, owner)
    try:
        holder = broker_leases.holder(client, keys, job.id)
        dead = holder if holder and not _owner_alive(holder, _alive) else ""
        claim, value = broker_leases.take(client, keys, job.id, ticket, owner, queue.lease_seconds, queue.max_runs,
                                          dead)
        if claim is Claim.EXHAUSTED:
            reporter.send(ReportKind.EXHAUSTED, runs=int(value))
            return "failed"
        if claim is not Claim.TAKEN:
            reporter.send(ReportKind.SKIPPED, detail={"reason": claim.value, **({"holder": value} if value else {})})
            return "skipped"
        run = int(value)
        queued = float(task.get("queued_at") or 0)
        detail: dict[str, Any] = {"run": run, "waited_seconds": round(time.time() - queued, 3) if queued else None}
        if dead:
            detail["took_over_from"] = dead
        reporter.send(ReportKind.STARTED, run=run, detail=detail)
        return _run_with_heartbeat(reporter, config, run)
    finally:
        client.close()


def _run_with_heartbeat(reporter: JobReporter, config: NodeConfig, run: int) -> str:
    from .worker_reports import ReportKind

    lost, done = threading.Event(), threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(reporter, config, run, lost, done), daemon=True,
                            name=f"lease-job{reporter.current.id}")
    beat.start()
    try:
        job = process_job(reporter, reporter.current, config, stop=lost.is_set)
        if not lost.is_set():
            reporter.send(ReportKind.END, unfinished=job.state in PIPELINE_STATES)
        # The node must hear the outcome: wait for the broker (the lease is kept renewed meanwhile).
        while not reporter.flush() and not lost.is_set():
            time.sleep(min(1.0, config.queue.heartbeat_seconds))
    finally:
        done.set()
        beat.join()
    return str(job.state.value)


def _heartbeat(reporter: JobReporter, config: NodeConfig, run: int, lost: threading.Event,
               done: threading.Event) -> None:
    from redis import RedisError

    from . import broker_leases

    queue, job_id = config.queue, reporter.current.id
    while not done.wait(queue.heartbeat_seconds):
        try:
            kept = broker_leases.renew(reporter.client, reporter.keys, job_id, reporter.ticket, reporter.owner,
                                       queue.lease_seconds, run)
        except RedisError:
            continue  # broker away: the node cannot sweep meanwhile either; renew when it returns
        if not kept:
            lost.set()
            logger.warning("Job %d: lease lost (the node swept the job); stopping this run", job_id)
            reporter.note_lease_lost()
            return


def _owner_alive(owner: str, alive: Callable[[int], bool]) -> bool:
    """False only for a holder on this host whose process is gone; a remote holder is trusted to its lease."""
    import os

    host, _, pid = owner.rpartition(":")
    return not (host == os.uname().nodename and pid.isdigit() and not alive(int(pid)))
