"""The Celery application of the node and its workers, with the settings long jobs need.

Celery's defaults suit millisecond tasks. A contouring job takes minutes and a GPU runs one at a
time, so: the task is acknowledged only after it ran (``task_acks_late``) and given back when the
worker process dies (``task_reject_on_worker_lost``); each worker reserves one task at a time
(``worker_prefetch_multiplier = 1``, concurrency 1); soft and hard time limits end a stuck job; and
Redis redelivers an unacknowledged task only after ``visibility_timeout``, which the configuration
keeps above the hard limit. None of this is the job record: see :mod:`.execution`.

Imported only when ``[queue] broker`` is set: celery and redis are optional (the ``service`` extra).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..errors import InputError
from .config import NodeConfig

logger = logging.getLogger(__name__)

TASK_NAME = "oarcontour.contour"
#: The queue of each engine: the classical engine needs CPU only; the others want one GPU per job.
QUEUES = ("cpu", "gpu")


class BrokerError(InputError):
    """The broker named in ``queue.broker`` cannot be reached or the Celery packages are missing."""


def queue_for(engine: str) -> str:
    return "cpu" if engine == "classical" else "gpu"


def check_broker(config: NodeConfig) -> None:
    """One PING with a short timeout, so a wrong or stopped broker is one clear line, not endless retries.

    Raises
    ------
    BrokerError
        Names the broker URL and what failed.
    """
    broker = config.queue.broker
    _require_packages()
    import redis

    timeout = config.queue.connect_timeout_seconds
    client = redis.Redis.from_url(broker, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise BrokerError(f"Cannot reach the broker {broker} (queue.broker): {exc}",
                          hint="Start redis-server there, or fix queue.broker in the configuration.") from exc
    finally:
        client.close()


#: File systems on which SQLite's WAL (shared memory beside the file) is not safe across hosts.
NETWORK_FILESYSTEMS = ("nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "ceph", "glusterfs", "lustre")


def network_filesystem(path: Path, mounts: str | None = None) -> str | None:
    """The network file system type ``path`` lives on (from ``/proc/mounts``), or None.

    ``mounts`` is the text of ``/proc/mounts`` (read when not given; empty where there is none).
    """
    if mounts is None:
        try:
            mounts = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    target, best, kind = str(path.resolve()), "", ""
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best):
            best, kind = point, fields[2]
    return kind if kind in NETWORK_FILESYSTEMS else None


def check_ledger_is_local(config: NodeConfig) -> None:
    """Refuse a worker whose ledger is on a network file system (SQLite WAL would not be safe there).

    Raises
    ------
    BrokerError
        Names the ledger and its file system type.
    """
    ledger = config.node.ledger
    kind = network_filesystem(ledger.parent if ledger.parent.exists() else Path("/"))
    if kind:
        raise BrokerError(f"node.ledger {ledger} is on a network file system ({kind}): the SQLite ledger's "
                          "write-ahead log is safe only for processes on the node's host.",
                          hint="Run workers on the node's host (see README, Scaling out).")


def _require_packages() -> None:
    try:
        import celery  # noqa: F401
        import redis  # noqa: F401
    except ImportError as exc:
        raise BrokerError("queue.broker is set but celery or redis is not installed.",
                          hint='pip install "oarcontour[service]"') from exc


def make_app(config: NodeConfig) -> Any:
    """A Celery app for ``config`` with the task registered (the node only sends; workers run it)."""
    _require_packages()
    from celery import Celery

    queue = config.queue
    app = Celery("oarcontour", broker=queue.broker, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_concurrency=1,
        task_soft_time_limit=queue.soft_time_limit_seconds,
        task_time_limit=queue.hard_time_limit_seconds,
        broker_transport_options={"visibility_timeout": queue.visibility_timeout_seconds,
                                  "socket_connect_timeout": queue.connect_timeout_seconds},
        broker_connection_timeout=queue.connect_timeout_seconds,
        # At start-up a missing broker is an error (check_broker names it); once running, a lost
        # broker is waited for, however long it takes: the running job goes on, the ledger is local.
        broker_connection_retry_on_startup=False,
        broker_connection_retry=True,
        broker_connection_max_retries=None,
        task_ignore_result=True,  # the ledger holds the outcome; no result backend
        task_default_queue=queue_for(config.pipeline.engine),
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )

    @app.task(name=TASK_NAME)
    def contour(job_id: int) -> str:
        from .execution import run_leased
        from .ledger import owner_id

        return run_leased(config, int(job_id), owner_id())

    return app
