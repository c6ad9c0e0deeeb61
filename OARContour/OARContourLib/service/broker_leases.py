"""A worker's claim on a job, kept in the broker (Redis), so a worker on another host needs no ledger.

Per job the node writes ``<prefix>job:<id>``, a hash of the delivery it queued (``ticket``, the
Celery task id) and the runs so far (``runs``). A worker that receives the task takes
``<prefix>lease:<id>`` (its ``host:pid``, with a time to live) and renews it on every heartbeat.
Both steps are scripts Redis runs atomically, so two deliveries of one job cannot both start, a
delivery the node has replaced (``ticket`` changed) never starts, and a job that keeps killing its
worker stops after ``queue.max_runs`` runs. The node only reads the lease: a job whose lease is gone
for longer than ``queue.lease_seconds`` is swept back to the queue (see :mod:`.execution`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from .config import NodeConfig


class Claim(str, enum.Enum):
    """What a worker's attempt to take a job gives."""

    TAKEN = "taken"
    STALE = "stale"  # the node queued another delivery of the job, or the job is finished
    HELD = "held"  # another live worker runs the job
    EXHAUSTED = "exhausted"  # queue.max_runs runs started already


@dataclass(frozen=True)
class BrokerKeys:
    """The Redis keys of one node (its AE title), so nodes may share a broker."""

    prefix: str

    @classmethod
    def of(cls, config: NodeConfig) -> BrokerKeys:
        return cls(f"oarcontour:{config.node.ae_title}:")

    def job(self, job_id: int) -> str:
        return f"{self.prefix}job:{job_id}"

    def lease(self, job_id: int) -> str:
        return f"{self.prefix}lease:{job_id}"

    @property
    def reports(self) -> str:
        """The stream of the workers' reports to the node (see :mod:`.worker_reports`)."""
        return f"{self.prefix}reports"


# KEYS: job hash, lease. ARGV: ticket, owner, ttl ms, dead holder ("" if none), max runs.
_TAKE = """
if redis.call('HGET', KEYS[1], 'ticket') ~= ARGV[1] then return {'stale', ''} end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[2] and holder ~= ARGV[4] then return {'held', holder} end
local run = redis.call('HINCRBY', KEYS[1], 'runs', 1)
if run > tonumber(ARGV[5]) then return {'exhausted', tostring(run - 1)} end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return {'taken', tostring(run)}
"""

# KEYS: job hash, lease. ARGV: ticket, owner, ttl ms, run. A broker restarted without its data has
# neither key: the worker puts both back (the node waits a whole lease before it sweeps anything).
_RENEW = """
local ticket = redis.call('HGET', KEYS[1], 'ticket')
if ticket and ticket ~= ARGV[1] then return 0 end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[2] then return 0 end
if not ticket then redis.call('HSET', KEYS[1], 'ticket', ARGV[1], 'runs', ARGV[4]) end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1
"""

# KEYS: lease. ARGV: owner.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def take(client: Any, keys: BrokerKeys, job_id: int, ticket: str, owner: str, lease_seconds: float,
         max_runs: int, dead: str = "") -> tuple[Claim, str]:
    """The worker's claim on delivery ``ticket``: (TAKEN, run number), (HELD, holder), (EXHAUSTED, runs) or (STALE, "")."""
    outcome, value = client.eval(_TAKE, 2, keys.job(job_id), keys.lease(job_id), ticket, owner,
                                 _ms(lease_seconds), dead, max_runs)
    return Claim(_text(outcome)), _text(value)


def renew(client: Any, keys: BrokerKeys, job_id: int, ticket: str, owner: str, lease_seconds: float,
          run: int) -> bool:
    """The heartbeat: False when the node has given the job to another delivery or worker."""
    return bool(client.eval(_RENEW, 2, keys.job(job_id), keys.lease(job_id), ticket, owner,
                            _ms(lease_seconds), run))


def holder(client: Any, keys: BrokerKeys, job_id: int) -> str:
    """Who holds the job's lease now ("" if nobody)."""
    return _text(client.get(keys.lease(job_id)) or b"")


def holders(client: Any, keys: BrokerKeys, job_ids: list[int]) -> dict[int, str]:
    """The node's liveness check: each job's lease holder, in one round trip."""
    if not job_ids:
        return {}
    values = client.mget([keys.lease(job_id) for job_id in job_ids])
    return {job_id: _text(value or b"") for job_id, value in zip(job_ids, values)}


def offer(client: Any, keys: BrokerKeys, job_id: int, ticket: str, runs: int) -> None:
    """The node queues delivery ``ticket`` of a job that has run ``runs`` times; older deliveries turn stale.

    A lease left by an older delivery goes too: the node re-queues only a job it has given up on.
    """
    pipe = client.pipeline(transaction=True)
    pipe.hset(keys.job(job_id), mapping={"ticket": ticket, "runs": runs})
    pipe.delete(keys.lease(job_id))
    pipe.execute()


def release(client: Any, keys: BrokerKeys, job_id: int, owner: str, *, finished: bool) -> None:
    """The run of ``owner`` ended: free its lease; a finished job's keys go entirely."""
    client.eval(_RELEASE, 1, keys.lease(job_id), owner)
    if finished:
        client.delete(keys.job(job_id))


def forget(client: Any, keys: BrokerKeys, job_id: int) -> None:
    """A job that failed for good: no delivery of it may start again."""
    client.delete(keys.job(job_id), keys.lease(job_id))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
