"""A worker's reports to the node: every ledger change of a job's run travels through the broker.

Workers never open the ledger, so they may run on other hosts. On a worker, :class:`JobReporter`
stands in for the ledger in the pipeline (:class:`.ledger.JobLedger`): it keeps the job's state
locally and appends each change (``started``, ``event``, ``update``, ``transition``, ``end``) to a
Redis stream. On the node, :func:`apply_reports` applies them to the ledger on every tick.

Each message names its job, delivery (``ticket``), worker (``owner``) and a sequence number within
the run. The node applies a message only if the job is still held by that worker under that
delivery (a run swept meanwhile is ignored) and only once (a message sent again after a broker
timeout is dropped by its sequence number); message and sequence number are written in one
transaction, so a node that dies mid-way applies nothing twice. While the broker is unreachable the
worker keeps its messages in order and sends them when it returns.
"""

from __future__ import annotations

import enum
import json
import logging
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from .broker_leases import BrokerKeys
from .ledger import PIPELINE_STATES, Job, JobState, Ledger

logger = logging.getLogger(__name__)

#: Stream entries the node reads per round trip.
BATCH = 500


class ReportKind(str, enum.Enum):
    STARTED = "started"
    EVENT = "event"
    UPDATE = "update"
    TRANSITION = "transition"
    END = "end"
    #: Not the holder's: a duplicate or stale delivery the worker did not run, or a lease it lost.
    SKIPPED = "skipped"
    LEASE_LOST = "lease_lost"
    EXHAUSTED = "exhausted"


#: Ledger columns a worker may set (never the destination, the send claim or the review of a person).
WORKER_COLUMNS = frozenset({"study_uid", "patient_id", "engine", "engine_version", "template", "tps",
                            "rtstruct_path", "rtstruct_sop_uid", "findings", "verification", "reason",
                            "reviewer", "reviewed_at"})
#: States a worker may move a job to: the pipeline's and the review gate's outcome.
WORKER_STATES = frozenset({JobState.CHECKED, JobState.CONTOURING, JobState.AWAITING_REVIEW, JobState.APPROVED,
                           JobState.FAILED})
#: Fields of a job a worker receives with the task (no patient data).
TASK_FIELDS = ("id", "series_uid", "state", "ct_dir", "out_dir", "queued_at")


def task_job(job: Job) -> dict[str, Any]:
    """What the node puts in the task for the worker."""
    return {key: job.row[key] for key in TASK_FIELDS}


def job_from_task(fields: dict[str, Any]) -> Job:
    return Job(int(fields["id"]), str(fields["series_uid"]), JobState(fields["state"]), dict(fields))


@dataclass
class JobReporter:
    """The worker's ledger for one delivered job: local state, every change reported to the node."""

    client: Any
    keys: BrokerKeys
    current: Job
    ticket: str
    owner: str

    def __post_init__(self) -> None:
        self.seq = 0
        self.unsent: deque[str] = deque()
        self.broker_down = False

    # -- the JobLedger protocol --------------------------------------------------------------------
    def job(self, job_id: int | str) -> Job:
        return self.current

    def update(self, job_id: int, **values: Any) -> None:
        self._set_local(values)
        self.send(ReportKind.UPDATE, values=values)

    def transition(self, job_id: int, to_state: JobState, from_states: Iterable[JobState], *,
                   detail: dict[str, Any] | None = None, at: float | None = None, **values: Any) -> bool:
        allowed = list(from_states)
        if self.current.state not in allowed:
            return False
        self.current = Job(self.current.id, self.current.series_uid, to_state, {**self.current.row,
                                                                                 "state": to_state.value})
        self._set_local(values)
        self.send(ReportKind.TRANSITION, to=to_state.value, from_states=[s.value for s in allowed],
                  values=values, detail=detail or {})
        return True

    def record(self, job_id: int | None, kind: str, **detail: Any) -> None:
        self.send(ReportKind.EVENT, event=kind, detail=detail)

    # -- sending -----------------------------------------------------------------------------------
    def send(self, kind: ReportKind, **fields: Any) -> None:
        """Queue one report (numbered) and send what can be sent now."""
        self.seq += 1
        self.unsent.append(self._message(kind, self.seq, fields))
        self.flush()

    def note_lease_lost(self) -> None:
        """Tell the node this run stopped (from the heartbeat thread: unnumbered, sent at once or not at all)."""
        from redis import RedisError

        try:
            self.client.xadd(self.keys.reports, {"m": self._message(ReportKind.LEASE_LOST, 0, {})})
        except RedisError:
            pass

    def _message(self, kind: ReportKind, seq: int, fields: dict[str, Any]) -> str:
        return json.dumps({"job": self.current.id, "ticket": self.ticket, "owner": self.owner, "seq": seq,
                           "at": time.time(), "kind": kind.value, **fields}, default=str)

    def flush(self) -> bool:
        """Send the reports held back; False while the broker cannot be reached (they stay, in order)."""
        from redis import RedisError

        while self.unsent:
            try:
                self.client.xadd(self.keys.reports, {"m": self.unsent[0]})
            except RedisError as exc:
                if not self.broker_down:
                    logger.warning("Job %d: cannot report to the node (%s); holding %d reports until the broker "
                                   "returns", self.current.id, exc, len(self.unsent))
                self.broker_down = True
                return False
            self.unsent.popleft()
        if self.broker_down:
            logger.info("Job %d: broker back; reports sent", self.current.id)
            self.broker_down = False
        return True

    def _set_local(self, values: dict[str, Any]) -> None:
        # As the ledger stores them: lists and dicts (findings, verification) as JSON text.
        self.current.row.update({key: json.dumps(value, default=str) if isinstance(value, (list, dict)) else value
                                 for key, value in values.items()})


# -- the node's side ------------------------------------------------------------------------------
@dataclass(frozen=True)
class AppliedReport:
    """A run that ended (its worker's lease is to be freed; a finished job's broker keys go too)."""

    job_id: int
    owner: str
    finished: bool


def apply_reports(ledger: Ledger, client: Any, keys: BrokerKeys, lease_seconds: float) -> list[AppliedReport]:
    """Apply the workers' reports waiting in the stream to the ledger, then delete them from the stream.

    Raises redis' errors when the broker cannot be reached (nothing applied is lost: what was
    applied is deleted from the stream only afterwards, and applying it again changes nothing).
    """
    applied: list[AppliedReport] = []
    while True:
        entries = client.xrange(keys.reports, "-", "+", count=BATCH)
        if not entries:
            return applied
        for _entry_id, fields in entries:
            try:
                message = json.loads(fields.get(b"m") or fields.get("m") or "{}")
                result = _apply(ledger, message, lease_seconds)
            except (ValueError, KeyError, TypeError) as exc:  # a malformed message must not stop the node
                logger.warning("Ignored a malformed worker report: %s", exc)
                continue
            if result is not None:
                applied.append(result)
        client.xdel(keys.reports, *[entry_id for entry_id, _ in entries])


def _apply(ledger: Ledger, message: dict[str, Any], lease_seconds: float) -> AppliedReport | None:
    kind = ReportKind(message["kind"])
    job_id, owner, at = int(message["job"]), str(message["owner"]), float(message["at"])
    try:
        job = ledger.job(job_id)
    except InputError:  # a job of another ledger (the node was started on a new one)
        logger.warning("A worker reported on job %d, which this ledger does not have", job_id)
        return None
    if kind in (ReportKind.SKIPPED, ReportKind.LEASE_LOST):
        ledger.record_at(job_id, "delivery_skipped" if kind is ReportKind.SKIPPED else "lease_lost", at,
                         {"worker": owner, **message.get("detail", {})})
        return None
    if str(message["ticket"]) != job["ticket"]:
        return None  # a delivery the node replaced (swept, re-queued): its reports are void
    if kind is ReportKind.EXHAUSTED:
        return _fail_exhausted(ledger, job_id, owner, int(message["runs"]), at)
    if kind is ReportKind.STARTED:
        _start(ledger, job, message, lease_seconds)
        return None
    if job["worker"] != owner or int(job["report_seq"]) >= int(message["seq"]):
        return None  # not (any more) this worker's run, or applied already
    with ledger.batch():
        result = _change(ledger, kind, job_id, owner, message)
        ledger.update(job_id, report_seq=int(message["seq"]))
    return result


def _fail_exhausted(ledger: Ledger, job_id: int, owner: str, runs: int, at: float) -> AppliedReport:
    reason = (f"the job was started {runs} times (queue.max_runs) without finishing: its worker process died "
              "each time (the hard time limit, or out of memory)")
    with ledger.batch():
        ledger.update(job_id, dispatch="", worker="", lease_until=0.0, ticket="")
        ledger.transition(job_id, JobState.FAILED, PIPELINE_STATES, reason=reason, detail={"reason": reason}, at=at)
    logger.warning("Job %d failed: %s", job_id, reason)
    return AppliedReport(job_id, owner, finished=True)


def _start(ledger: Ledger, job: Job, message: dict[str, Any], lease_seconds: float) -> None:
    owner, seq = str(message["owner"]), int(message["seq"])
    if job["worker"] == owner and int(job["report_seq"]) >= seq:
        return  # applied already
    with ledger.batch():
        if ledger.start_run(job.id, owner, str(message["ticket"]), int(message["run"]), lease_seconds):
            ledger.record_at(job.id, "started", float(message["at"]), {"worker": owner, **message.get("detail", {})})
            ledger.update(job.id, report_seq=seq)


def _change(ledger: Ledger, kind: ReportKind, job_id: int, owner: str, message: dict[str, Any]) -> AppliedReport | None:
    """One change of the holder's run: an event, new values, a state transition, or the run's end."""
    if kind is ReportKind.EVENT:
        ledger.record_at(job_id, str(message["event"]), float(message["at"]), dict(message.get("detail", {})))
    elif kind is ReportKind.UPDATE:
        values = _worker_values(message.get("values", {}))
        if values:
            ledger.update(job_id, **values)
    elif kind is ReportKind.TRANSITION:
        to_state = JobState(message["to"])
        sources = [JobState(s) for s in message.get("from_states", [])]
        if to_state in WORKER_STATES and set(sources) <= set(PIPELINE_STATES):
            ledger.transition(job_id, to_state, sources, detail=dict(message.get("detail", {})),
                              at=float(message["at"]), **_worker_values(message.get("values", {})))
    elif kind is ReportKind.END:
        unfinished = bool(message.get("unfinished"))
        ledger.end_lease(job_id, owner, "pending" if unfinished else "")
        return AppliedReport(job_id, owner, finished=not unfinished)
    return None


def _worker_values(values: dict[str, Any]) -> dict[str, Any]:
    dropped = set(values) - WORKER_COLUMNS
    if dropped:
        logger.warning("Ignored ledger columns a worker may not set: %s", sorted(dropped))
    return {key: value for key, value in values.items() if key in WORKER_COLUMNS}
